CREATE TABLE `booking_attendees` (
	`id` text PRIMARY KEY NOT NULL,
	`booking_id` text NOT NULL,
	`position` integer NOT NULL,
	`name` text,
	`email` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `booking_attendees_booking_position_uq` ON `booking_attendees` (`booking_id`,`position`);--> statement-breakpoint
CREATE INDEX `booking_attendees_email_idx` ON `booking_attendees` (`email`);--> statement-breakpoint
CREATE TABLE `booking_group_members` (
	`group_id` text NOT NULL,
	`booking_id` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`group_id`, `booking_id`),
	FOREIGN KEY (`group_id`) REFERENCES `booking_groups`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `booking_group_members_booking_uq` ON `booking_group_members` (`booking_id`);--> statement-breakpoint
CREATE TABLE `booking_groups` (
	`id` text PRIMARY KEY NOT NULL,
	`reference` text NOT NULL,
	`name` text NOT NULL,
	`company` text,
	`organiser_name` text NOT NULL,
	`organiser_email` text NOT NULL,
	`payer_name` text NOT NULL,
	`payer_email` text NOT NULL,
	`class_id` text NOT NULL,
	`session_id` text,
	`status` text DEFAULT 'active' NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `booking_groups_reference_unique` ON `booking_groups` (`reference`);--> statement-breakpoint
CREATE INDEX `booking_groups_class_idx` ON `booking_groups` (`class_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `booking_groups_created_idx` ON `booking_groups` (`created_at`);--> statement-breakpoint
CREATE TABLE `certificates` (
	`id` text PRIMARY KEY NOT NULL,
	`number` text NOT NULL,
	`verification_code` text NOT NULL,
	`customer_id` text NOT NULL,
	`holder_name` text NOT NULL,
	`class_id` text NOT NULL,
	`booking_id` text NOT NULL,
	`attendee_id` text NOT NULL,
	`status` text DEFAULT 'valid' NOT NULL,
	`issued_at` integer NOT NULL,
	`expires_at` integer,
	`renewal_reminder_sent_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `certificates_number_unique` ON `certificates` (`number`);--> statement-breakpoint
CREATE UNIQUE INDEX `certificates_verification_code_unique` ON `certificates` (`verification_code`);--> statement-breakpoint
CREATE UNIQUE INDEX `certificates_attendee_class_uq` ON `certificates` (`attendee_id`,`class_id`);--> statement-breakpoint
CREATE INDEX `certificates_customer_idx` ON `certificates` (`customer_id`,`issued_at`);--> statement-breakpoint
CREATE INDEX `certificates_class_expiry_idx` ON `certificates` (`class_id`,`expires_at`);--> statement-breakpoint
CREATE INDEX `certificates_expiry_idx` ON `certificates` (`expires_at`) WHERE status = 'valid';--> statement-breakpoint
CREATE TABLE `renewal_offers` (
	`id` text PRIMARY KEY NOT NULL,
	`certificate_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`email` text NOT NULL,
	`session_id` text NOT NULL,
	`hold_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`status` text DEFAULT 'offered' NOT NULL,
	`expires_at` integer NOT NULL,
	`booking_id` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`certificate_id`) REFERENCES `certificates`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `renewal_offers_token_hash_unique` ON `renewal_offers` (`token_hash`);--> statement-breakpoint
CREATE INDEX `renewal_offers_certificate_idx` ON `renewal_offers` (`certificate_id`);--> statement-breakpoint
CREATE INDEX `renewal_offers_status_expiry_idx` ON `renewal_offers` (`status`,`expires_at`);--> statement-breakpoint
CREATE TABLE `session_attendance` (
	`session_id` text NOT NULL,
	`attendee_id` text NOT NULL,
	`booking_id` text NOT NULL,
	`status` text NOT NULL,
	`recorded_by` text NOT NULL,
	`recorded_at` integer NOT NULL,
	PRIMARY KEY(`session_id`, `attendee_id`)
);
--> statement-breakpoint
CREATE INDEX `session_attendance_booking_idx` ON `session_attendance` (`booking_id`);--> statement-breakpoint
CREATE INDEX `session_attendance_status_idx` ON `session_attendance` (`status`,`recorded_at`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`endpoint_id` text NOT NULL,
	`event_type` text NOT NULL,
	`event_id` text NOT NULL,
	`payload` text NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_attempt_at` integer,
	`next_attempt_at` integer,
	`response_status` integer,
	`last_error` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`endpoint_id`) REFERENCES `webhook_endpoints`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_endpoint_event_uq` ON `webhook_deliveries` (`endpoint_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint_created_idx` ON `webhook_deliveries` (`endpoint_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_status_next_idx` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`description` text,
	`secret` text NOT NULL,
	`status` text DEFAULT 'enabled' NOT NULL,
	`disabled_reason` text,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
ALTER TABLE `classes` ADD `certificate_validity_days` integer;--> statement-breakpoint
ALTER TABLE `classes` ADD `completion_attendance_percent` integer;--> statement-breakpoint
ALTER TABLE `customers` ADD `staff_notes` text;--> statement-breakpoint
ALTER TABLE `customers` ADD `preferences` text;--> statement-breakpoint
CREATE INDEX `customers_first_name_idx` ON `customers` (lower("first_name"));--> statement-breakpoint
CREATE INDEX `customers_last_name_idx` ON `customers` (lower("last_name"));--> statement-breakpoint
CREATE INDEX `customers_phone_idx` ON `customers` (`phone`);--> statement-breakpoint
CREATE INDEX `bookings_booked_by_idx` ON `bookings` (`booked_by`,`confirmed_at`);--> statement-breakpoint
CREATE INDEX `bookings_source_idx` ON `bookings` (`source`,`confirmed_at`);--> statement-breakpoint
-- Booking source became a closed list: free-text sources from before map to it (web and apps are the website).
UPDATE `bookings` SET `source` = CASE WHEN `source` IN ('phone', 'email', 'walk_in', 'staff', 'waitlist') THEN `source` ELSE 'website' END;
