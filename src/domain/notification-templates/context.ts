/** What every template is given besides its data, and the shape of a template. */
import type { Body, Link } from "./document";
import type { TemplateData, TemplateKind } from "./schemas";

export interface Context {
  /** "Hi Ada," or "Hello,". */
  greeting: string;
  bookingId: string | null;
  /** The service's host name (`book.example.com`), how account messages name it. */
  service: string;
  /** A path on this service as an absolute link. */
  link: (path: string) => Link;
}

/** A template: pure, its kind's checked data in, a subject and a body out. */
export type Template<K extends TemplateKind> = (data: TemplateData<K>, context: Context) => { subject: string; body: Body };

/** Templates for some kinds, each paired with its own data type. */
export type Templates<Kinds extends TemplateKind> = { [K in Kinds]: Template<K> };
