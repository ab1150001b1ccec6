CREATE TABLE `manage_token_revocations` (
	`booking_id` text PRIMARY KEY NOT NULL,
	`generation` integer NOT NULL,
	`revoked_at` integer NOT NULL,
	`revoked_by` text NOT NULL
);
--> statement-breakpoint
ALTER TABLE `idempotency_keys` ADD `origin` text;