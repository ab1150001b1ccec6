/**
 * The hourly alert checks (src/jobs/scheduled.ts runs them after reconciliation). The rules and
 * their queries live in src/services/alert-checks.ts, which the admin route that runs them on
 * demand shares.
 */
export { ALERT_CHECK_TYPES, type AlertCheckReport, type RuleOutcome, runAlertChecks } from "../services/alert-checks";
