/**
 * Staffing rules, pure: who may teach a class, and whether two sessions clash for one person.
 * The database side (and the race-proof writes) live in src/services/staff-assignment.ts.
 */

/** A staff member as the rules need them. */
export interface StaffCandidate {
  id: string;
  firstName: string;
  lastName: string;
  active: boolean;
  roleIds: string[];
}

export type UnqualifiedReason = "NOT_FOUND" | "INACTIVE" | "MISSING_ROLE";

export interface Unqualified {
  staffId: string;
  name: string | null;
  reason: UnqualifiedReason;
}

/** A span of time a session occupies, [startsAt, endsAt). */
export interface TimeWindow {
  startsAt: Date;
  endsAt: Date;
}

const REASON_TEXT: Record<UnqualifiedReason, string> = {
  NOT_FOUND: "does not exist",
  INACTIVE: "is not active",
  MISSING_ROLE: "does not hold the class's required teaching role",
};

/**
 * Everyone among `requested` who may not teach a class needing `requiredRoleId`, and why:
 * unknown, inactive, or without the role. Empty when all may.
 */
export function unqualifiedStaff(requiredRoleId: string, requested: string[], known: StaffCandidate[]): Unqualified[] {
  const byId = new Map(known.map((person) => [person.id, person]));
  const problems: Unqualified[] = [];
  for (const staffId of new Set(requested)) {
    const person = byId.get(staffId);
    if (!person) problems.push({ staffId, name: null, reason: "NOT_FOUND" });
    else if (!person.active) problems.push({ staffId, name: fullName(person), reason: "INACTIVE" });
    else if (!person.roleIds.includes(requiredRoleId)) problems.push({ staffId, name: fullName(person), reason: "MISSING_ROLE" });
  }
  return problems;
}

/** One sentence naming each person who may not teach and why. */
export function describeUnqualified(problems: Unqualified[]): string {
  const parts = problems.map((p) => `${p.name ? `${p.name} (${p.staffId})` : p.staffId} ${REASON_TEXT[p.reason]}`);
  return `Not allowed to teach this class: ${parts.join("; ")}`;
}

/** Whether two sessions overlap in time; touching ends (one ends as the other starts) do not. */
export function overlaps(a: TimeWindow, b: TimeWindow): boolean {
  return a.startsAt.getTime() < b.endsAt.getTime() && b.startsAt.getTime() < a.endsAt.getTime();
}

/**
 * What is wrong with a staff assignment as a list of people, or null: nobody may be listed twice,
 * and the instructor may not also be an assistant.
 */
export function assignmentProblem(instructorId: string | null | undefined, assistantIds: string[]): string | null {
  if (new Set(assistantIds).size !== assistantIds.length) return "lists someone twice";
  if (instructorId && assistantIds.includes(instructorId)) return "the instructor cannot also be an assistant of the same session";
  return null;
}

function fullName(person: { firstName: string; lastName: string }): string {
  return `${person.firstName} ${person.lastName}`.trim();
}
