/** Group and corporate booking messages: the organiser's confirmation and each participant's own. */
import type { Templates } from "./context";
import { body } from "./document";
import { at, formatPence, line, seats, shortWhen, when } from "./format";

/** How many sessions and participants a message lists before summarising the rest. */
const LISTED = 50;

export const GROUP_TEMPLATES: Templates<"GROUP_CONFIRMATION" | "GROUP_PARTICIPANT_CONFIRMATION"> = {
  GROUP_CONFIRMATION: (data, { greeting }) => ({
    subject: `Group booking confirmed: ${line(data.groupName)}, ${line(data.className)}, ${shortWhen(firstStart(data.sessions), data.timeZone)}`,
    body: body(
      greeting,
      `The group booking ${line(data.groupName)}${data.company ? ` for ${line(data.company)}` : ""} on ${line(data.className)}${at(data.studioName)} is confirmed: ` +
        `${seats(data.participants.length)}.`,
      `Reference: ${line(data.reference)}`,
      listed(data.sessions.map((session) => session.startsAt).sort((a, b) => a - b).map((start) => when(start, data.timeZone)), data.sessions.length === 1 ? "Session" : "Sessions"),
      listed(data.participants.map((participant) => line(participant.name)), "Participants"),
      data.totalAmountPence === undefined ? null : `Total: ${formatPence(data.totalAmountPence)}`,
      "Each participant with an email address gets their own confirmation. To change the group, contact the studio.",
    ),
  }),
  GROUP_PARTICIPANT_CONFIRMATION: (data, { greeting }) => ({
    subject: `You are booked: ${line(data.className)}, ${shortWhen(firstStart(data.sessions), data.timeZone)}`,
    body: body(
      greeting,
      `${line(data.participantName)}, you have a place on ${line(data.className)}${at(data.studioName)} with the group ${line(data.groupName)}` +
        `${data.organiserName ? `, booked by ${line(data.organiserName)}` : ""}.`,
      listed(data.sessions.map((session) => session.startsAt).sort((a, b) => a - b).map((start) => when(start, data.timeZone)), data.sessions.length === 1 ? "Session" : "Sessions"),
      "Questions or changes go through your group's organiser.",
    ),
  }),
};

const firstStart = (sessions: { startsAt: number }[]) => Math.min(...sessions.map((session) => session.startsAt));

function listed(items: string[], title: string): string {
  const lines = items.slice(0, LISTED).map((item) => `- ${item}`);
  if (items.length > LISTED) lines.push(`- and ${items.length - LISTED} more`);
  return `${title}${items.length > 1 ? ` (${items.length})` : ""}:\n${lines.join("\n")}`;
}
