/** TODO(owner): public catalog routes for this resource. */
import { createRouter } from "../../lib/openapi";

export const publicSessionRoutes = createRouter();
