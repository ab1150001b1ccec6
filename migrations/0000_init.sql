CREATE TABLE `alerts` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`severity` text NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`subject_key` text NOT NULL,
	`title` text NOT NULL,
	`details` text,
	`occurrences` integer DEFAULT 1 NOT NULL,
	`acknowledged_at` integer,
	`acknowledged_by` text,
	`resolved_at` integer,
	`resolved_by` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_unresolved_subject_uq` ON `alerts` (`type`,`subject_key`) WHERE status <> 'resolved';--> statement-breakpoint
CREATE INDEX `alerts_status_idx` ON `alerts` (`status`,`severity`,`created_at`);--> statement-breakpoint
CREATE TABLE `booking_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`outcome` text NOT NULL,
	`error_code` text,
	`booking_id` text,
	`registration_type` text,
	`session_ids` text NOT NULL,
	`email` text,
	`guest_count` integer,
	`amount_pence` integer,
	`expected_amount_pence` integer,
	`currency` text,
	`promo_code` text,
	`source` text,
	`actor_role` text,
	`client_key` text,
	`idempotency_key` text,
	`request_id` text,
	`duration_ms` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `booking_attempts_created_idx` ON `booking_attempts` (`created_at`);--> statement-breakpoint
CREATE INDEX `booking_attempts_outcome_idx` ON `booking_attempts` (`outcome`,`error_code`,`created_at`);--> statement-breakpoint
CREATE INDEX `booking_attempts_email_idx` ON `booking_attempts` (`email`,`created_at`);--> statement-breakpoint
CREATE TABLE `booking_communications` (
	`id` text PRIMARY KEY NOT NULL,
	`booking_id` text,
	`waitlist_entry_id` text,
	`session_id` text,
	`class_id` text,
	`recipient_email` text NOT NULL,
	`type` text NOT NULL,
	`channel` text NOT NULL,
	`status` text NOT NULL,
	`subject` text,
	`content` text,
	`template` text,
	`template_version` integer,
	`provider` text,
	`provider_message_id` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`claimed_until` integer,
	`requested_at` integer NOT NULL,
	`sent_at` integer,
	`failed_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `booking_communications_booking_idx` ON `booking_communications` (`booking_id`,`requested_at`);--> statement-breakpoint
CREATE INDEX `booking_communications_waitlist_entry_idx` ON `booking_communications` (`waitlist_entry_id`);--> statement-breakpoint
CREATE TABLE `booking_decisions` (
	`reservation_id` text PRIMARY KEY NOT NULL,
	`decision` text NOT NULL,
	`booking_id` text,
	`booking` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `booking_sessions` (
	`booking_id` text NOT NULL,
	`session_id` text NOT NULL,
	`seats` integer NOT NULL,
	`status` text NOT NULL,
	`price_pence` integer DEFAULT 0 NOT NULL,
	`version` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`booking_id`, `session_id`),
	FOREIGN KEY (`booking_id`) REFERENCES `bookings`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`session_id`) REFERENCES `class_sessions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `booking_sessions_session_idx` ON `booking_sessions` (`session_id`,`status`);--> statement-breakpoint
CREATE TABLE `bookings` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`registration_type` text NOT NULL,
	`status` text NOT NULL,
	`guest_count` integer NOT NULL,
	`class_id` text NOT NULL,
	`pattern_id` text,
	`subtotal_pence` integer NOT NULL,
	`discount_pence` integer NOT NULL,
	`total_amount_pence` integer NOT NULL,
	`currency` text DEFAULT 'GBP' NOT NULL,
	`promo_code_id` text,
	`source` text,
	`referral_source` text,
	`notes` text,
	`manage_token_hash` text NOT NULL,
	`booked_by` text,
	`duplicate_override` integer DEFAULT false NOT NULL,
	`hold_id` text,
	`version` integer NOT NULL,
	`confirmed_at` integer NOT NULL,
	`cancelled_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `bookings_customer_idx` ON `bookings` (`customer_id`);--> statement-breakpoint
CREATE INDEX `bookings_class_idx` ON `bookings` (`class_id`,`confirmed_at`);--> statement-breakpoint
CREATE INDEX `bookings_confirmed_at_idx` ON `bookings` (`confirmed_at`);--> statement-breakpoint
CREATE TABLE `cities` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`country_code` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cities_name_unique` ON `cities` (`name`);--> statement-breakpoint
CREATE TABLE `class_resource_requirements` (
	`class_id` text NOT NULL,
	`resource_id` text NOT NULL,
	`quantity_per_student` integer NOT NULL,
	PRIMARY KEY(`class_id`, `resource_id`),
	FOREIGN KEY (`class_id`) REFERENCES `classes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`resource_id`) REFERENCES `resources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `class_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`class_id` text NOT NULL,
	`pattern_id` text,
	`starts_at` integer NOT NULL,
	`ends_at` integer NOT NULL,
	`capacity` integer NOT NULL,
	`location` text,
	`instructor_id` text,
	`status` text DEFAULT 'scheduled' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`class_id`) REFERENCES `classes`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`pattern_id`) REFERENCES `schedule_patterns`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`instructor_id`) REFERENCES `staff`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `class_sessions_pattern_start_uq` ON `class_sessions` (`pattern_id`,`starts_at`);--> statement-breakpoint
CREATE INDEX `class_sessions_class_start_idx` ON `class_sessions` (`class_id`,`starts_at`);--> statement-breakpoint
CREATE INDEX `class_sessions_instructor_start_idx` ON `class_sessions` (`instructor_id`,`starts_at`);--> statement-breakpoint
CREATE INDEX `class_sessions_starts_at_idx` ON `class_sessions` (`starts_at`);--> statement-breakpoint
CREATE TABLE `classes` (
	`id` text PRIMARY KEY NOT NULL,
	`studio_id` text NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`price_pence` integer NOT NULL,
	`full_schedule_price_pence` integer,
	`duration_minutes` integer NOT NULL,
	`default_capacity` integer NOT NULL,
	`required_role_id` text NOT NULL,
	`booking_kinds` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`studio_id`) REFERENCES `studios`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`required_role_id`) REFERENCES `teaching_roles`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `classes_studio_idx` ON `classes` (`studio_id`);--> statement-breakpoint
CREATE TABLE `course_interest` (
	`id` text PRIMARY KEY NOT NULL,
	`course_id` text NOT NULL,
	`city_key` text DEFAULT '' NOT NULL,
	`email` text NOT NULL,
	`customer_id` text,
	`notified_at` integer,
	`notified_session_id` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`course_id`) REFERENCES `classes`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `course_interest_uq` ON `course_interest` (`course_id`,`city_key`,`email`);--> statement-breakpoint
CREATE INDEX `course_interest_pending_idx` ON `course_interest` (`course_id`,`notified_at`);--> statement-breakpoint
CREATE TABLE `customers` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`first_name` text NOT NULL,
	`last_name` text NOT NULL,
	`phone` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `customers_email_unique` ON `customers` (`email`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`queue` text NOT NULL,
	`message_id` text NOT NULL,
	`body` text NOT NULL,
	`attempts` integer NOT NULL,
	`sent_at` integer NOT NULL,
	`first_seen_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`queue`, `message_id`)
);
--> statement-breakpoint
CREATE INDEX `dead_letters_first_seen_idx` ON `dead_letters` (`first_seen_at`);--> statement-breakpoint
CREATE TABLE `demand_signals` (
	`id` text PRIMARY KEY NOT NULL,
	`course_id` text NOT NULL,
	`user_id` text,
	`city_id` text,
	`signal_type` text NOT NULL,
	`reason` text,
	`metadata` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `demand_signals_course_analytics_idx` ON `demand_signals` (`course_id`,`created_at`,`city_id`,`signal_type`);--> statement-breakpoint
CREATE INDEX `demand_signals_city_idx` ON `demand_signals` (`city_id`);--> statement-breakpoint
CREATE INDEX `demand_signals_type_idx` ON `demand_signals` (`signal_type`);--> statement-breakpoint
CREATE INDEX `demand_signals_created_idx` ON `demand_signals` (`created_at`);--> statement-breakpoint
CREATE INDEX `demand_signals_analytics_idx` ON `demand_signals` (`created_at`,`course_id`,`city_id`,`signal_type`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`session_id` text,
	`class_id` text,
	`studio_id` text,
	`city_id` text,
	`booking_id` text,
	`customer_id` text,
	`email` text,
	`client_key` text,
	`code` text,
	`seats` integer,
	`amount_pence` integer,
	`source` text,
	`data` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_occurred_idx` ON `events` (`occurred_at`);--> statement-breakpoint
CREATE INDEX `events_type_occurred_idx` ON `events` (`type`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `events_studio_occurred_idx` ON `events` (`studio_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `events_email_occurred_idx` ON `events` (`email`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `events_hold_booking_idx` ON `events` (data ->> '$.holdId',`occurred_at`) WHERE type = 'BOOKING_CONFIRMED';--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`seed` text NOT NULL,
	`status` text NOT NULL,
	`response_status` integer,
	`response_body` text,
	`lease_until` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`scope`, `key`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_expires_idx` ON `idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE TABLE `metrics` (
	`granularity` text NOT NULL,
	`period_start` text NOT NULL,
	`scope` text NOT NULL,
	`scope_id` text DEFAULT '' NOT NULL,
	`metric` text NOT NULL,
	`dimension` text DEFAULT '' NOT NULL,
	`value` integer NOT NULL,
	`denominator` integer,
	`computed_at` integer NOT NULL,
	PRIMARY KEY(`granularity`, `period_start`, `scope`, `scope_id`, `metric`, `dimension`)
);
--> statement-breakpoint
CREATE INDEX `metrics_scope_period_idx` ON `metrics` (`granularity`,`scope`,`scope_id`,`period_start`,`metric`,`dimension`);--> statement-breakpoint
CREATE TABLE `promo_codes` (
	`id` text PRIMARY KEY NOT NULL,
	`code` text NOT NULL,
	`kind` text NOT NULL,
	`value` integer NOT NULL,
	`valid_from` integer,
	`valid_until` integer,
	`max_uses` integer,
	`max_uses_per_email` integer,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `promo_codes_code_unique` ON `promo_codes` (`code`);--> statement-breakpoint
CREATE TABLE `promo_redemptions` (
	`booking_id` text PRIMARY KEY NOT NULL,
	`promo_code_id` text NOT NULL,
	`email` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`promo_code_id`) REFERENCES `promo_codes`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `promo_redemptions_promo_email_idx` ON `promo_redemptions` (`promo_code_id`,`email`);--> statement-breakpoint
CREATE TABLE `resources` (
	`id` text PRIMARY KEY NOT NULL,
	`studio_id` text NOT NULL,
	`name` text NOT NULL,
	`quantity` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`studio_id`) REFERENCES `studios`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `resources_studio_name_uq` ON `resources` (`studio_id`,`name`);--> statement-breakpoint
CREATE TABLE `schedule_patterns` (
	`id` text PRIMARY KEY NOT NULL,
	`class_id` text NOT NULL,
	`frequency` text NOT NULL,
	`interval` integer DEFAULT 1 NOT NULL,
	`by_weekday` text NOT NULL,
	`count` integer,
	`until_date` text,
	`start_date` text NOT NULL,
	`start_time` text NOT NULL,
	`duration_minutes` integer NOT NULL,
	`max_students` integer NOT NULL,
	`location` text,
	`exception_dates` text NOT NULL,
	`default_instructor_id` text,
	`default_assistant_ids` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`class_id`) REFERENCES `classes`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`default_instructor_id`) REFERENCES `staff`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `schedule_patterns_class_idx` ON `schedule_patterns` (`class_id`);--> statement-breakpoint
CREATE TABLE `session_assistants` (
	`session_id` text NOT NULL,
	`staff_id` text NOT NULL,
	PRIMARY KEY(`session_id`, `staff_id`),
	FOREIGN KEY (`session_id`) REFERENCES `class_sessions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`staff_id`) REFERENCES `staff`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `session_assistants_staff_idx` ON `session_assistants` (`staff_id`);--> statement-breakpoint
CREATE TABLE `staff` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`first_name` text NOT NULL,
	`last_name` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `staff_email_unique` ON `staff` (`email`);--> statement-breakpoint
CREATE TABLE `staff_teaching_roles` (
	`staff_id` text NOT NULL,
	`role_id` text NOT NULL,
	PRIMARY KEY(`staff_id`, `role_id`),
	FOREIGN KEY (`staff_id`) REFERENCES `staff`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`role_id`) REFERENCES `teaching_roles`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `staff_teaching_roles_role_idx` ON `staff_teaching_roles` (`role_id`);--> statement-breakpoint
CREATE TABLE `studios` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`city_id` text NOT NULL,
	`time_zone` text NOT NULL,
	`currency` text DEFAULT 'GBP' NOT NULL,
	`address` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`city_id`) REFERENCES `cities`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `studios_city_idx` ON `studios` (`city_id`);--> statement-breakpoint
CREATE TABLE `teaching_roles` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `teaching_roles_name_unique` ON `teaching_roles` (`name`);--> statement-breakpoint
CREATE TABLE `waitlist_entries` (
	`id` text PRIMARY KEY NOT NULL,
	`session_id` text NOT NULL,
	`class_id` text NOT NULL,
	`customer_id` text,
	`email` text NOT NULL,
	`first_name` text NOT NULL,
	`last_name` text NOT NULL,
	`guest_count` integer NOT NULL,
	`priority` text NOT NULL,
	`status` text NOT NULL,
	`preferred_contact` text,
	`alternative_dates` text,
	`notes` text,
	`added_by` text,
	`offer_expires_at` integer,
	`offers_made` integer DEFAULT 0 NOT NULL,
	`booking_id` text,
	`version` integer NOT NULL,
	`joined_at` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `class_sessions`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `waitlist_entries_session_idx` ON `waitlist_entries` (`session_id`,`status`);--> statement-breakpoint
CREATE INDEX `waitlist_entries_email_idx` ON `waitlist_entries` (`email`);