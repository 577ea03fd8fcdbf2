/**
 * Twilio Messages API pieces: WhatsApp addresses, SID formats, the form body and the mapping of
 * Twilio's error answers (`{ code, message, more_info, status }`) to errors that say what to do.
 */

export const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
export const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;
export const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;
const E164 = /^\+[1-9]\d{7,14}$/;

/**
 * `whatsapp:+E164` from `+E164`, `whatsapp:+E164` or a number written with spaces, dashes, dots or
 * brackets (`+44 20 7946-0958`); null when it is not an E.164 number (a leading + and the country code
 * are required: there is no default country).
 */
export function toWhatsAppAddress(input: unknown): string | null {
  if (typeof input !== 'string' && typeof input !== 'number') return null;
  let text = String(input).trim();
  if (/^whatsapp:/i.test(text)) text = text.slice('whatsapp:'.length).trim();
  text = text.replace(/[\s().-]/g, '');
  return E164.test(text) ? `whatsapp:${text}` : null;
}

/** `whatsapp:+*******0958`: the number hidden except its last four digits. */
export function maskAddress(address: string): string {
  const match = /^(whatsapp:)?\+(\d+)$/.exec(address);
  if (!match) return address;
  const digits = match[2]!;
  return `${match[1] ?? ''}+${'*'.repeat(Math.max(0, digits.length - 4))}${digits.slice(-4)}`;
}

/** application/x-www-form-urlencoded, as Twilio's API expects it. */
export function encodeForm(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%20/g, '+')}`)
    .join('&');
}

/** The base URL without trailing slashes; Twilio's own when empty. */
export function normalizeBaseUrl(value: unknown): string {
  const text = typeof value === 'string' ? value.trim().replace(/\/+$/, '') : '';
  return text || 'https://api.twilio.com';
}

export function isHttpUrl(value: string): boolean {
  return /^https?:\/\/[^\s/?#]+[^\s]*$/i.test(value);
}

/** Twilio's error answer. */
export interface TwilioErrorBody {
  code?: number;
  message?: string;
  more_info?: string;
  status?: number;
}

/** What to do about the errors a WhatsApp sender meets most. */
const HINTS: Record<number, string> = {
  20003:
    'Twilio rejected the credentials: check the Account SID and the Auth Token, or the API Key SID and Secret (and that the key belongs to this account).',
  20404: 'Twilio does not know this resource: check the Account SID (and the Base URL).',
  20429: 'Too many requests: slow down or let n8n retry the node (Settings > Retry On Fail).',
  21211: 'The To number is not a valid phone number. Use E.164: a + and the country code, e.g. +14155550123.',
  21408:
    'Sending to this region is not enabled for the account (Twilio Console > Messaging > Geo permissions).',
  21606:
    'The sender is not a WhatsApp-enabled number of this account. Check the WhatsApp Sender in the credentials.',
  21610: 'The recipient has opted out (replied STOP) and cannot be messaged until they opt in again.',
  21617: 'The message is longer than 1,600 characters. Shorten it or let the node truncate it.',
  21656:
    'Twilio rejected the template variables. Check that every variable of the template is set and has no invalid characters.',
  63007:
    'Twilio found no WhatsApp channel for the sender. Check the WhatsApp Sender (or the Messaging Service) in the credentials.',
  63015:
    'The WhatsApp sandbox only reaches numbers that joined it: the recipient must send "join <your sandbox code>" first.',
  63016:
    'Free-form text is only allowed within 24 hours of the recipient\'s last message to you. Outside that window send an approved Content template (Message Type "Content Template").',
  63018: 'WhatsApp rate limit for this sender reached. Send fewer messages per second or retry later.',
  63021: 'The rendered template is longer than WhatsApp allows (1,024 characters). Shorten the variables.',
  63024: 'The recipient cannot receive this message (invalid WhatsApp user or blocked).',
  63032:
    'WhatsApp does not deliver to this user (e.g. the marketing message limit for this user was reached).',
  63038: 'The account reached its daily message limit (trial accounts send at most 50 per day).',
};

export function twilioHint(code: number | undefined): string | undefined {
  return code === undefined ? undefined : HINTS[code];
}

/** A readable error from an answer that is not 2xx, whatever its body. */
export function describeTwilioError(
  statusCode: number,
  body: unknown,
): { code: number | undefined; message: string; description: string; moreInfo: string | undefined } {
  const error = (typeof body === 'object' && body !== null ? body : {}) as TwilioErrorBody;
  const code = typeof error.code === 'number' ? error.code : undefined;
  const twilioMessage = typeof error.message === 'string' ? error.message : undefined;
  const moreInfo = typeof error.more_info === 'string' ? error.more_info : undefined;
  const message =
    code !== undefined
      ? `Twilio error ${code}: ${twilioMessage ?? `HTTP ${statusCode}`}`
      : `Twilio answered HTTP ${statusCode}${twilioMessage ? `: ${twilioMessage}` : ''}`;
  const description = [twilioHint(code), moreInfo ? `See ${moreInfo}` : ''].filter(Boolean).join(' ');
  return { code, message, description: description || `HTTP ${statusCode}`, moreInfo };
}
