CREATE TABLE `calendar_feeds` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_email` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `calendar_feeds_secret_hash_unique` ON `calendar_feeds` (`secret_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `calendar_feeds_live_email_uq` ON `calendar_feeds` (`customer_email`) WHERE revoked_at IS NULL;--> statement-breakpoint
CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`role` text NOT NULL,
	`staff_id` text,
	`role_set_by` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`staff_id`) REFERENCES `staff`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_email_unique` ON `accounts` (`email`);--> statement-breakpoint
CREATE INDEX `accounts_role_idx` ON `accounts` (`role`);--> statement-breakpoint
CREATE TABLE `auth_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`expires_at` integer NOT NULL,
	`ended_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `auth_sessions_account_idx` ON `auth_sessions` (`account_id`);--> statement-breakpoint
CREATE TABLE `sign_in_links` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`limit_key` text NOT NULL,
	`purpose` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`used_by_session` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sign_in_links_limit_key_idx` ON `sign_in_links` (`limit_key`,`created_at`);--> statement-breakpoint
ALTER TABLE `classes` ADD `reminder_hours_before` integer;--> statement-breakpoint
ALTER TABLE `classes` ADD `follow_up_hours_after` integer;--> statement-breakpoint
ALTER TABLE `customers` ADD `preferred_contact` text;--> statement-breakpoint
ALTER TABLE `booking_communications` ADD `sent_by` text;--> statement-breakpoint
CREATE INDEX `booking_communications_recipient_idx` ON `booking_communications` (`recipient_email`,`requested_at`);--> statement-breakpoint
CREATE INDEX `class_sessions_ends_at_idx` ON `class_sessions` (`ends_at`);--> statement-breakpoint
CREATE INDEX `course_interest_email_idx` ON `course_interest` (`email`,`created_at`);