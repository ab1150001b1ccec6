/**
 * Certificates as pages: the printable certificate (`/certificates/{id}`, its holder or staff) and
 * the public verification (`/certificates/verify/{code}`), which shows only the number and whether
 * it is valid. Print styles (public/assets/site.css, `.certificate`) drop the site's frame.
 */
import { localTime } from "./format";
import { Layout, type LayoutProps } from "./layout";

export interface PrintableCertificate {
  number: string;
  holderName: string;
  className: string;
  timeZone: string;
  validity: "valid" | "expiring" | "expired" | "revoked";
  issuedAt: string;
  expiresAt: string | null;
  verificationPath: string;
}

const VALIDITY_TEXT = { valid: "Valid", expiring: "Valid (expiring soon)", expired: "Expired", revoked: "Revoked" } as const;

export function CertificatePage({ certificate, verifyUrl, user }: { certificate: PrintableCertificate; verifyUrl: string; user?: LayoutProps["user"] }) {
  return (
    <Layout title={`Certificate ${certificate.number}`} user={user}>
      <article class="certificate" aria-labelledby="certificate-holder">
        <p class="certificate-kicker">Certificate of completion</p>
        <p class="certificate-holder" id="certificate-holder">{certificate.holderName}</p>
        <p>has completed</p>
        <p class="certificate-class">{certificate.className}</p>
        <dl class="facts">
          <dt>Number</dt>
          <dd>{certificate.number}</dd>
          <dt>Issued</dt>
          <dd><time datetime={certificate.issuedAt}>{localTime(certificate.issuedAt, certificate.timeZone)}</time></dd>
          <dt>Expires</dt>
          <dd>{certificate.expiresAt ? <time datetime={certificate.expiresAt}>{localTime(certificate.expiresAt, certificate.timeZone)}</time> : "Never"}</dd>
          <dt>Status</dt>
          <dd>{VALIDITY_TEXT[certificate.validity]}</dd>
          <dt>Verify at</dt>
          <dd><a href={certificate.verificationPath}>{verifyUrl}</a></dd>
        </dl>
      </article>
      <p class="no-print">Use your browser's print command to print this certificate or save it as a PDF.</p>
    </Layout>
  );
}

export interface VerificationView {
  number: string;
  valid: boolean;
  status: "valid" | "expired" | "revoked";
  expiresAt: string | null;
}

const STATUS_TEXT = { valid: "This certificate is valid.", expired: "This certificate has expired.", revoked: "This certificate has been revoked." } as const;

export function VerificationPage({ verification, user }: { verification: VerificationView; user?: LayoutProps["user"] }) {
  return (
    <Layout title={`Certificate ${verification.number}`} user={user}>
      <p class="notice" id="verification-status" role="status">
        {STATUS_TEXT[verification.status]}
      </p>
      <dl class="facts">
        <dt>Number</dt>
        <dd>{verification.number}</dd>
        <dt>{verification.status === "expired" ? "Expired" : "Expires"}</dt>
        <dd>{verification.expiresAt ? <time datetime={verification.expiresAt}>{localTime(verification.expiresAt, "UTC")}</time> : "Never"}</dd>
      </dl>
    </Layout>
  );
}

export function CertificateNotFoundPage({ what, user }: { what: "certificate" | "verification"; user?: LayoutProps["user"] }) {
  return (
    <Layout title="Certificate not found" user={user}>
      <p>{what === "verification" ? "No certificate matches this verification link. Check the address printed on the certificate." : "There is no certificate here for you. Sign in with the email the certificate was sent to."}</p>
    </Layout>
  );
}
