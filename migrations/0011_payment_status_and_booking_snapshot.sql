ALTER TABLE `bookings` ADD `payment_status` text DEFAULT 'not_required' NOT NULL;--> statement-breakpoint
ALTER TABLE `payments` ADD `class_id` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `source` text;--> statement-breakpoint
ALTER TABLE `payments` ADD `booking_snapshot` text;--> statement-breakpoint
CREATE INDEX `payments_open_expiry_idx` ON `payments` (`status`,`expires_at`);--> statement-breakpoint
CREATE INDEX `payments_paid_at_idx` ON `payments` (`paid_at`,`class_id`,`source`,`paid_pence`);--> statement-breakpoint
CREATE INDEX `payments_refunded_idx` ON `payments` (`updated_at`) WHERE "payments"."refunded_pence" > 0;--> statement-breakpoint
CREATE INDEX `refunds_settled_idx` ON `refunds` (`updated_at`,`status`,`payment_id`,`amount_pence`);--> statement-breakpoint
-- Hand-written (drizzle-kit does not know views or triggers): bookings.payment_status follows the
-- booking's payments, whoever writes them and in whatever order the booking and its payments reach
-- D1. With money received it is paid, partially_refunded or refunded from the sums over all its
-- payments (a move's difference is a second one); before that, pending while a checkout is open,
-- failed once every checkout closed unpaid; with no payment at all it keeps what the projection wrote.
CREATE VIEW `booking_payment_status` AS
  SELECT booking_id, CASE
      WHEN sum(paid_pence) > 0 AND sum(refunded_pence) >= sum(paid_pence) THEN 'refunded'
      WHEN sum(paid_pence) > 0 AND sum(refunded_pence) > 0 THEN 'partially_refunded'
      WHEN sum(paid_pence) > 0 THEN 'paid'
      WHEN sum(status IN ('pending', 'unpaid')) > 0 THEN 'pending'
      ELSE 'failed' END AS status
  FROM payments GROUP BY booking_id;--> statement-breakpoint
CREATE TRIGGER `payments_booking_status_insert` AFTER INSERT ON `payments` BEGIN
  UPDATE `bookings` SET payment_status = (SELECT status FROM booking_payment_status WHERE booking_id = NEW.booking_id) WHERE id = NEW.booking_id;
END;--> statement-breakpoint
CREATE TRIGGER `payments_booking_status_update` AFTER UPDATE OF status, paid_pence, refunded_pence ON `payments` BEGIN
  UPDATE `bookings` SET payment_status = (SELECT status FROM booking_payment_status WHERE booking_id = NEW.booking_id) WHERE id = NEW.booking_id;
END;--> statement-breakpoint
CREATE TRIGGER `bookings_payment_status_insert` AFTER INSERT ON `bookings`
  WHEN EXISTS (SELECT 1 FROM payments WHERE booking_id = NEW.id) BEGIN
  UPDATE `bookings` SET payment_status = (SELECT status FROM booking_payment_status WHERE booking_id = NEW.id) WHERE id = NEW.id;
END;
