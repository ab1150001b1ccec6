/** Public catalog under /api/v1: what is on, for anyone. */
import { createRouter } from "../../lib/openapi";
import { publicClassRoutes } from "./classes";
import { liveSessionRoutes } from "./live";
import { publicSessionRoutes } from "./sessions";

export const catalogRoutes = createRouter()
  .route("/classes", publicClassRoutes)
  .route("/sessions", publicSessionRoutes)
  .route("/sessions", liveSessionRoutes);
