ALTER TABLE `classes` ADD `payment_mode` text DEFAULT 'at_studio' NOT NULL;--> statement-breakpoint
ALTER TABLE `classes` ADD `free_cancellation_hours` integer;--> statement-breakpoint
ALTER TABLE `classes` ADD `late_cancellation_fee_percent` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `classes` ADD `self_cancel_cutoff_hours` integer;