CREATE TABLE `attendance_sweeps` (
	`session_id` text PRIMARY KEY NOT NULL,
	`marked` integer NOT NULL,
	`swept_at` integer NOT NULL
);
