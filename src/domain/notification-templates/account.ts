/** Account messages: a sign-in link and an invitation to join as staff. They name no class. */
import type { Templates } from "./context";
import { body } from "./document";
import { line, when } from "./format";

export const ACCOUNT_TEMPLATES: Templates<"SIGN_IN_LINK" | "STAFF_INVITE"> = {
  SIGN_IN_LINK: (data, { service, link }) => ({
    subject: `Sign in to ${service}`,
    body: body(
      "Hello,",
      [`Use this link to sign in to ${service}: `, link(data.linkPath)],
      `It is valid until ${when(data.expiresAt, data.timeZone)}.`,
      "If you did not ask for this, ignore this message: nobody can sign in without the link.",
    ),
  }),
  STAFF_INVITE: (data, { service, link }) => ({
    subject: `You are invited to ${data.studioName ? line(data.studioName) : service} as ${data.role}`,
    body: body(
      "Hello,",
      `${data.invitedBy ? line(data.invitedBy) : "Someone"} has invited you to join ${data.studioName ? `${line(data.studioName)} on ` : ""}${service} ` +
        `as ${data.role === "admin" ? "an admin" : "staff"}.`,
      ["Accept the invitation: ", link(data.linkPath)],
      `The link is valid until ${when(data.expiresAt, data.timeZone)}.`,
      "If you were not expecting this, ignore this message: nothing happens without the link.",
    ),
  }),
};
