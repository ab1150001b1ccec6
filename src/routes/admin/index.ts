/** Everything under /api/v1/admin. Each route also declares its own roles. */
import { createRouter } from "../../lib/openapi";
import { accountRoutes, staffInviteRoutes } from "./accounts";
import { alertRoutes } from "./alerts";
import { adminBookingRoutes } from "./bookings";
import { cityRoutes } from "./cities";
import { classRoutes } from "./classes";
import { customerRoutes } from "./customers";
import { demandAnalyticsRoutes } from "./demand";
import { staffMessageRoutes } from "./messages";
import { metricRoutes } from "./metrics";
import { promoCodeRoutes } from "./promo-codes";
import { qualifiedStaffRoutes } from "./qualified-staff";
import { resourceRoutes } from "./resources";
import { schedulePatternRoutes } from "./schedule-patterns";
import { sessionAdminRoutes } from "./sessions";
import { staffRoutes } from "./staff";
import { studioRoutes } from "./studios";
import { teachingRoleRoutes } from "./teaching-roles";
import { sessionWaitingListRoutes, waitingListRoutes } from "./waiting-lists";

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
  .route("/waiting-lists", waitingListRoutes)
  .route("/promo-codes", promoCodeRoutes)
  .route("/alerts", alertRoutes)
  .route("/bookings", adminBookingRoutes)
  .route("/demand", demandAnalyticsRoutes)
  .route("/metrics", metricRoutes)
  .route("/customers", customerRoutes)
  .route("/", staffMessageRoutes);
