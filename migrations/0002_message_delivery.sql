CREATE TABLE `dev_mailbox` (
	`id` text PRIMARY KEY NOT NULL,
	`communication_id` text NOT NULL,
	`to_email` text NOT NULL,
	`subject` text NOT NULL,
	`text` text NOT NULL,
	`html` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dev_mailbox_communication_id_unique` ON `dev_mailbox` (`communication_id`);--> statement-breakpoint
CREATE INDEX `dev_mailbox_to_idx` ON `dev_mailbox` (`to_email`,`created_at`);--> statement-breakpoint
CREATE TABLE `undeliverable_addresses` (
	`email` text PRIMARY KEY NOT NULL,
	`reason` text NOT NULL,
	`provider` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `webhook_receipts` (
	`provider` text NOT NULL,
	`webhook_id` text NOT NULL,
	`type` text NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`provider`, `webhook_id`)
);
--> statement-breakpoint
ALTER TABLE `booking_communications` ADD `delivered_at` integer;--> statement-breakpoint
ALTER TABLE `booking_communications` ADD `opened_at` integer;--> statement-breakpoint
ALTER TABLE `booking_communications` ADD `clicked_at` integer;--> statement-breakpoint
ALTER TABLE `booking_communications` ADD `failed_reason` text;--> statement-breakpoint
CREATE INDEX `booking_communications_provider_message_idx` ON `booking_communications` (`provider`,`provider_message_id`);