/** Everything under /api/v1/admin. Each route also declares its own roles. */
import { createRouter } from "../../lib/openapi";
import { accountRoutes, staffInviteRoutes } from "./accounts";
import { alertRoutes } from "./alerts";
import { bookingCustomerRoutes } from "./booking-customer";
import { bookingPaymentRoutes } from "./booking-payments";
import { adminBookingRoutes } from "./bookings";
import { certificateRoutes } from "./certificates";
import { cityRoutes } from "./cities";
import { classRoutes } from "./classes";
import { customerRoutes } from "./customers";
import { demandAnalyticsRoutes } from "./demand";
import { groupRoutes } from "./groups";
import { exportRoutes } from "./exports";
import { staffMessageRoutes } from "./messages";
import { metricRoutes } from "./metrics";
import { reportRoutes } from "./reports";
import { promoCodeRoutes } from "./promo-codes";
import { adminParticipantRoutes } from "./participants";
import { qualifiedStaffRoutes } from "./qualified-staff";
import { resourceRoutes } from "./resources";
import { rosterRoutes } from "./roster";
import { schedulePatternRoutes } from "./schedule-patterns";
import { sessionAdminRoutes } from "./sessions";
import { staffRoutes } from "./staff";
import { studioRoutes } from "./studios";
import { teachingRoleRoutes } from "./teaching-roles";
import { sessionWaitingListRoutes, waitingListRoutes } from "./waiting-lists";
import { webhookRoutes } from "./webhooks";

export const adminRoutes = createRouter()
  .route("/cities", cityRoutes)
  .route("/studios", studioRoutes)
  .route("/teaching-roles", teachingRoleRoutes)
  .route("/staff", staffRoutes)
  .route("/staff", staffInviteRoutes)
  .route("/accounts", accountRoutes)
  .route("/classes", classRoutes)
  .route("/classes", qualifiedStaffRoutes)
  .route("/resources", resourceRoutes)
  .route("/schedule-patterns", schedulePatternRoutes)
  .route("/sessions", sessionAdminRoutes)
  .route("/sessions", sessionWaitingListRoutes)
  .route("/sessions", rosterRoutes)
  .route("/waiting-lists", waitingListRoutes)
  .route("/promo-codes", promoCodeRoutes)
  .route("/alerts", alertRoutes)
  // Before /bookings and /customers: /bookings/export.csv and /customers/export.csv are not ids.
  .route("/", exportRoutes)
  // Before /bookings, so its /{id} routes do not take "groups" for a booking id.
  .route("/bookings/groups", groupRoutes)
  .route("/bookings", adminBookingRoutes)
  .route("/bookings", bookingCustomerRoutes)
  .route("/bookings", adminParticipantRoutes)
  .route("/bookings", bookingPaymentRoutes)
  .route("/demand", demandAnalyticsRoutes)
  .route("/metrics", metricRoutes)
  .route("/reports", reportRoutes)
  .route("/customers", customerRoutes)
  .route("/webhooks", webhookRoutes)
  .route("/certificates", certificateRoutes)
  .route("/", staffMessageRoutes);
