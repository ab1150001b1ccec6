DROP INDEX `booking_sessions_session_idx`;--> statement-breakpoint
CREATE INDEX `booking_sessions_session_idx` ON `booking_sessions` (`session_id`,`status`,`seats`);--> statement-breakpoint
ALTER TABLE `bookings` ADD `net_pence` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `bookings` ADD `net_seats` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Hand-written (drizzle-kit does not know triggers): bookings.net_pence / net_seats are the sums of the
-- booking's confirmed lines, backfilled here and then recomputed from the lines by SQLite on every line
-- change that touches them (and when a header arrives after its lines), whoever writes them; a
-- redelivered line recomputes the same figures.
UPDATE `bookings` SET net_pence = (SELECT COALESCE(sum(price_pence), 0) FROM booking_sessions WHERE booking_id = bookings.id AND status = 'confirmed'),
    net_seats = (SELECT COALESCE(sum(seats), 0) FROM booking_sessions WHERE booking_id = bookings.id AND status = 'confirmed');--> statement-breakpoint
CREATE INDEX `bookings_customer_value_idx` ON `bookings` (`status`,`customer_id`,`confirmed_at`,`net_pence`,`class_id`);--> statement-breakpoint
DROP INDEX `bookings_confirmed_at_idx`;--> statement-breakpoint
CREATE INDEX `bookings_confirmed_at_idx` ON `bookings` (`confirmed_at`,`status`,`class_id`,`customer_id`,`source`,`total_amount_pence`,`net_pence`,`net_seats`);--> statement-breakpoint
CREATE TRIGGER `booking_sessions_net_insert` AFTER INSERT ON `booking_sessions` BEGIN
  UPDATE `bookings` SET net_pence = (SELECT COALESCE(sum(price_pence), 0) FROM booking_sessions WHERE booking_id = NEW.booking_id AND status = 'confirmed'),
    net_seats = (SELECT COALESCE(sum(seats), 0) FROM booking_sessions WHERE booking_id = NEW.booking_id AND status = 'confirmed') WHERE id = NEW.booking_id;
END;--> statement-breakpoint
CREATE TRIGGER `booking_sessions_net_update` AFTER UPDATE OF booking_id, status, seats, price_pence ON `booking_sessions`
  WHEN OLD.booking_id IS NOT NEW.booking_id OR OLD.status IS NOT NEW.status OR OLD.seats IS NOT NEW.seats OR OLD.price_pence IS NOT NEW.price_pence BEGIN
  UPDATE `bookings` SET net_pence = (SELECT COALESCE(sum(price_pence), 0) FROM booking_sessions WHERE booking_id = NEW.booking_id AND status = 'confirmed'),
    net_seats = (SELECT COALESCE(sum(seats), 0) FROM booking_sessions WHERE booking_id = NEW.booking_id AND status = 'confirmed') WHERE id = NEW.booking_id;
  UPDATE `bookings` SET net_pence = (SELECT COALESCE(sum(price_pence), 0) FROM booking_sessions WHERE booking_id = OLD.booking_id AND status = 'confirmed'),
    net_seats = (SELECT COALESCE(sum(seats), 0) FROM booking_sessions WHERE booking_id = OLD.booking_id AND status = 'confirmed') WHERE id = OLD.booking_id AND OLD.booking_id <> NEW.booking_id;
END;--> statement-breakpoint
CREATE TRIGGER `booking_sessions_net_delete` AFTER DELETE ON `booking_sessions` BEGIN
  UPDATE `bookings` SET net_pence = (SELECT COALESCE(sum(price_pence), 0) FROM booking_sessions WHERE booking_id = OLD.booking_id AND status = 'confirmed'),
    net_seats = (SELECT COALESCE(sum(seats), 0) FROM booking_sessions WHERE booking_id = OLD.booking_id AND status = 'confirmed') WHERE id = OLD.booking_id;
END;--> statement-breakpoint
CREATE TRIGGER `bookings_net_insert` AFTER INSERT ON `bookings`
  WHEN EXISTS (SELECT 1 FROM booking_sessions WHERE booking_id = NEW.id) BEGIN
  UPDATE `bookings` SET net_pence = (SELECT COALESCE(sum(price_pence), 0) FROM booking_sessions WHERE booking_id = NEW.id AND status = 'confirmed'),
    net_seats = (SELECT COALESCE(sum(seats), 0) FROM booking_sessions WHERE booking_id = NEW.id AND status = 'confirmed') WHERE id = NEW.id;
END;
