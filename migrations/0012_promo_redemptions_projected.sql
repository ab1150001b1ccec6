ALTER TABLE `promo_redemptions` ADD `status` text DEFAULT 'redeemed' NOT NULL;--> statement-breakpoint
ALTER TABLE `promo_redemptions` ADD `version` integer DEFAULT 0 NOT NULL;