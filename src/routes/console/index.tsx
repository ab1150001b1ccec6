/**
 * The studio console (/admin…): pages for staff and admins. Every path is behind the session
 * cookie (`authenticate()`) and `consoleOnly`; the pages only read. Their buttons and forms call the
 * admin API from the browser (src/client/console-actions.ts), which checks the roles again, so a
 * write that needs an admin is refused for staff exactly as the API refuses it.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { authenticate } from "../../middleware/auth";
import { consoleOnly, pageHeaders } from "../page-response";
import { consoleAlertPages } from "./alerts";
import { consoleBookingPages } from "./bookings";
import { consoleDashboard } from "./dashboard";
import { consoleDemandPages } from "./demand";
import { consoleMetricPages } from "./metrics";
import { consolePatternPages } from "./patterns";
import { consoleSessionPages } from "./sessions";

export const consolePages = new Hono<AppEnv>();
// Mounted at the root: the guards go on the console's own paths only.
for (const path of ["/admin", "/admin/*"]) consolePages.use(path, pageHeaders, authenticate(), consoleOnly);
consolePages.route("/admin", consoleDashboard);
consolePages.route("/admin/alerts", consoleAlertPages);
consolePages.route("/admin", consoleBookingPages);
consolePages.route("/admin/sessions", consoleSessionPages);
consolePages.route("/admin/patterns", consolePatternPages);
consolePages.route("/admin/metrics", consoleMetricPages);
consolePages.route("/admin/demand", consoleDemandPages);
