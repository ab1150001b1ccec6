/** A group cancelled as a whole: one message to the organiser, one to each participant with an email. */
import type { Templates } from "./context";
import { body } from "./document";
import { at, line, shortWhen, when } from "./format";

export const GROUP_CANCELLATION_TEMPLATES: Templates<"GROUP_CANCELLED"> = {
  GROUP_CANCELLED: (data, { greeting }) => {
    const starts = data.sessions.map((session) => session.startsAt).sort((a, b) => a - b);
    return {
      subject: `Group booking cancelled: ${line(data.groupName)}, ${line(data.className)}, ${shortWhen(starts[0]!, data.timeZone)}`,
      body: body(
        greeting,
        data.participantName
          ? `${line(data.participantName)}, your place on ${line(data.className)}${at(data.studioName)} with the group ${line(data.groupName)} is cancelled.`
          : `The group booking ${line(data.groupName)} (reference ${line(data.reference)}) on ${line(data.className)}${at(data.studioName)} is cancelled, with every participant's place.`,
        data.reason ? `Reason: ${line(data.reason)}` : null,
        `${starts.length === 1 ? "Session" : "Sessions"}:\n${starts.slice(0, 50).map((start) => `- ${when(start, data.timeZone)}`).join("\n")}${starts.length > 50 ? `\n- and ${starts.length - 50} more` : ""}`,
        data.participantName ? "Questions go through your group's organiser." : "Any refund due will follow from the studio. Questions: contact the studio.",
      ),
    };
  },
};
