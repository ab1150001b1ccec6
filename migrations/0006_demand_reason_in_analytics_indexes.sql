DROP INDEX `demand_signals_course_analytics_idx`;--> statement-breakpoint
DROP INDEX `demand_signals_analytics_idx`;--> statement-breakpoint
CREATE INDEX `demand_signals_course_analytics_idx` ON `demand_signals` (`course_id`,`created_at`,`city_id`,`signal_type`,`reason`);--> statement-breakpoint
CREATE INDEX `demand_signals_analytics_idx` ON `demand_signals` (`created_at`,`course_id`,`city_id`,`signal_type`,`reason`);