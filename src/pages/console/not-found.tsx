/** A console page for something that does not exist (a booking or session id nobody knows). */
import { Layout, type LayoutProps } from "../layout";

export function ConsoleNotFoundPage({ user, what, id, back }: { user: LayoutProps["user"]; what: string; id: string; back: { href: string; label: string } }) {
  return (
    <Layout title={`${what} not found`} area="console" user={user}>
      <p data-testid="not-found">
        There is no {what.toLowerCase()} {id}.
      </p>
      <p>
        <a href={back.href}>{back.label}</a>
      </p>
    </Layout>
  );
}
