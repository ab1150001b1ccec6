/** TODO(owner): routes under /api/v1/admin for this resource. */
import { createRouter } from "../../lib/openapi";

export const resourceRoutes = createRouter();
