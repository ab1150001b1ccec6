/** Prefixed random ids (`cls_…`), so an id says what it names in logs and URLs. */
export const ID_PREFIX = {
  city: "cty",
  studio: "stu",
  teachingRole: "rol",
  staff: "stf",
  class: "cls",
  resource: "res",
  pattern: "pat",
  session: "ses",
  customer: "cus",
  booking: "bkg",
  hold: "hld",
  attempt: "att",
  signal: "sig",
  alert: "alr",
  promo: "prm",
  waitlistEntry: "wle",
  interest: "int",
  calendarFeed: "cfd",
  account: "acc",
  authSession: "aus",
  group: "grp",
  certificate: "crt",
  renewalOffer: "rno",
  webhookEndpoint: "whe",
  /** Standard Webhooks message ids (`webhook-id`). */
  webhookDelivery: "msg",
  payment: "pay",
  refund: "rfd",
} as const;

export function newId(kind: keyof typeof ID_PREFIX): string {
  return `${ID_PREFIX[kind]}_${crypto.randomUUID().replaceAll("-", "")}`;
}
