/**
 * Certificate pages: the printable certificate (`/certificates/{id}`: its holder, signed in, or
 * staff; anyone else sees "not found") and the public verification (`/certificates/verify/{code}`),
 * and a renewal offer (`/renewal-offers/{token}`), from the same services as the API.
 */
import { Hono } from "hono";
import { configOf } from "../../config";
import { getDb } from "../../db/client";
import type { AppEnv } from "../../env";
import { ApiError } from "../../errors";
import { authenticate } from "../../middleware/auth";
import { CertificateNotFoundPage, CertificatePage, VerificationPage } from "../../pages/certificate";
import { RenewalOfferNotFoundPage, RenewalOfferPage } from "../../pages/renewal-offer";
import { certificateFor, verifyCertificate } from "../../services/certificates";
import { showRenewalOffer } from "../../services/renewal-offers";
import { pageHeaders, pageUser, renderPage } from "../page-response";

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const CODE = /^[A-Za-z0-9_-]{1,100}$/;

export const certificatePages = new Hono<AppEnv>();
const page = [pageHeaders, authenticate()] as const;

certificatePages.get("/certificates/verify/:code", ...page, async (c) => {
  const code = c.req.param("code");
  try {
    if (!CODE.test(code)) throw new ApiError("NOT_FOUND", "No certificate matches this verification code");
    const verification = await verifyCertificate(getDb(c.env.DB), code);
    return renderPage(c, <VerificationPage verification={verification} user={pageUser(c)} />);
  } catch (error) {
    if (error instanceof ApiError && error.code === "NOT_FOUND") return renderPage(c, <CertificateNotFoundPage what="verification" user={pageUser(c)} />, { status: 404 });
    throw error;
  }
});

certificatePages.get("/certificates/:id", ...page, async (c) => {
  const id = c.req.param("id");
  const principal = c.get("principal");
  if (!principal) return c.redirect(`/sign-in?next=${encodeURIComponent(`/certificates/${ID.test(id) ? id : ""}`)}`, 303);
  try {
    if (!ID.test(id)) throw new ApiError("NOT_FOUND", "No such certificate");
    const certificate = await certificateFor(c.env, getDb(c.env.DB), principal, id);
    const verifyUrl = `${configOf(c.env).publicBaseUrl}${certificate.verificationPath}`;
    return renderPage(c, <CertificatePage certificate={certificate} verifyUrl={verifyUrl} user={pageUser(c)} />);
  } catch (error) {
    if (error instanceof ApiError && error.code === "NOT_FOUND") return renderPage(c, <CertificateNotFoundPage what="certificate" user={pageUser(c)} />, { status: 404 });
    throw error;
  }
});

certificatePages.get("/renewal-offers/:token", ...page, async (c) => {
  const token = c.req.param("token");
  try {
    if (token.length > 300) throw new ApiError("NOT_FOUND", "No renewal offer matches this token");
    const offer = await showRenewalOffer(getDb(c.env.DB), token);
    return renderPage(c, <RenewalOfferPage offer={{ ...offer, token }} user={pageUser(c)} />);
  } catch (error) {
    if (error instanceof ApiError && error.code === "NOT_FOUND") return renderPage(c, <RenewalOfferNotFoundPage user={pageUser(c)} />, { status: 404 });
    throw error;
  }
});
