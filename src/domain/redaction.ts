/**
 * Masks the secrets a request path may carry before it is logged or stored: a waitlist offer or
 * confirmation token alone accepts the offer (and returns a manage token), and `?token=` carries
 * a booking's manage token or a waitlist entry's token.
 */

/**
 * Path segments that follow one of these are tokens (`/waitlist-offers/{token}/accept`, a private
 * calendar feed's `/calendar/feeds/{secret}.ics`); messages' links are masked by the same list.
 */
export const TOKEN_SEGMENT_PARENTS = ["waitlist-offers", "waitlist-confirmations", "feeds", "renewal-offers"] as const;
const TOKEN_AFTER: ReadonlySet<string> = new Set(TOKEN_SEGMENT_PARENTS);

/**
 * Token shapes wherever they appear: a signed token (`parts.….<HMAC-SHA-256, base64url>`) or a bare
 * HMAC (a manage token). Our ids (`ses_` + 32 hex) match neither.
 */
const SIGNED_TOKEN = /^[^./]+(?:\.[^./]+)*\.[A-Za-z0-9_-]{43}$/;
const BARE_HMAC = /^[A-Za-z0-9_-]{43}$/;

/** Query parameters whose value is a credential, by name. */
const SECRET_PARAM = /token|secret|password|signature|api[-_]?key/i;

export const MASKED_SEGMENT = ":token";
export const MASKED_VALUE = "[redacted]";

/** `path` (optionally with `?query`) with token segments and secret query values masked. */
export function redactPath(target: string): string {
  const queryAt = target.indexOf("?");
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const segments = path.split("/");
  const masked = segments.map((segment, i) => {
    if (segment === "") return segment;
    const afterTokenRoute = i > 0 && TOKEN_AFTER.has(segments[i - 1]!.toLowerCase());
    return afterTokenRoute || isTokenLike(segment) ? MASKED_SEGMENT : segment;
  });
  const redacted = masked.join("/");
  return queryAt === -1 ? redacted : `${redacted}?${redactQuery(target.slice(queryAt + 1))}`;
}

function isTokenLike(segment: string): boolean {
  let text = segment;
  try {
    text = decodeURIComponent(segment);
  } catch {
    // Malformed escapes: judge the raw text.
  }
  return SIGNED_TOKEN.test(text) || BARE_HMAC.test(text);
}

/** Keeps the query's shape (names, order) so a log still says what was asked. */
function redactQuery(query: string): string {
  return query
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq === -1) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replaceAll("+", " "));
      } catch {
        // Judge the raw name.
      }
      return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=${MASKED_VALUE}` : pair;
    })
    .join("&");
}
