/**
 * How staff appear to the public: first name and last initial ("Sam T."), never the full
 * surname or the email. Pure, so every public route shows people the same way.
 */
export function publicDisplayName(firstName: string, lastName: string): string {
  const first = firstName.trim();
  // Array.from splits by code point, so a surname starting with an astral character keeps it whole.
  const initial = Array.from(lastName.trim())[0]?.toLocaleUpperCase("en-GB");
  if (!initial) return first;
  return first ? `${first} ${initial}.` : `${initial}.`;
}
