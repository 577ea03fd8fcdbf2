import type {
  ICredentialDataDecryptedObject,
  IDataObject,
  IExecuteFunctions,
  IN8nHttpFullResponse,
  INode,
  INodeExecutionData,
  INodeType,
  INodeTypeDescription,
  JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import { formatItem, renderMessage, renderOneLine } from './message';
import {
  cleanText,
  MAX_BODY_LENGTH,
  MAX_VARIABLE_LENGTH,
  MAX_VARIABLES,
  normalizeVariable,
  truncateText,
} from './text';
import {
  ACCOUNT_SID,
  CONTENT_SID,
  describeTwilioError,
  encodeForm,
  isHttpUrl,
  maskAddress,
  MESSAGING_SERVICE_SID,
  normalizeBaseUrl,
  toWhatsAppAddress,
} from './twilio';

const CREDENTIAL = 'twilioWhatsAppApi';
/** Room the item summary gets in a template, so the rendered template stays within WhatsApp's 1,024. */
const SUMMARY_VARIABLE_LENGTH = 700;

interface Options {
  maskRecipient?: boolean;
  maxLength?: number;
  messagingServiceSid?: string;
  onTooLong?: 'truncate' | 'fail';
  statusCallback?: string;
}

interface VariableEntry {
  number?: number | string;
  value?: unknown;
}

/** Who sends: a Messaging Service (Twilio picks the number) or the WhatsApp sender of the credential. */
function senderFields(
  node: INode,
  credentials: ICredentialDataDecryptedObject,
  options: Options,
  itemIndex: number,
): Record<string, string> {
  const service = (options.messagingServiceSid || String(credentials.messagingServiceSid ?? '')).trim();
  if (service) {
    if (!MESSAGING_SERVICE_SID.test(service)) {
      throw new NodeOperationError(
        node,
        `The Messaging Service SID "${service}" is not valid: it is MG followed by 32 hex digits`,
        { itemIndex },
      );
    }
    return { MessagingServiceSid: service };
  }
  const rawFrom = String(credentials.whatsappFrom ?? '').trim();
  if (!rawFrom) {
    throw new NodeOperationError(
      node,
      'No sender: set the WhatsApp Sender or a Messaging Service SID in the Twilio WhatsApp credentials',
      { itemIndex },
    );
  }
  const from = toWhatsAppAddress(rawFrom);
  if (!from) {
    throw new NodeOperationError(
      node,
      'The WhatsApp Sender in the credentials is not an E.164 number (e.g. +14155238886 or whatsapp:+14155238886)',
      { itemIndex },
    );
  }
  return { From: from };
}

/** ContentVariables: the numbered variables, normalised the way WhatsApp accepts them. */
function templateVariables(
  node: INode,
  entries: VariableEntry[],
  summary: { number: number; text: string } | undefined,
  itemIndex: number,
): Record<string, string> {
  const variables = new Map<number, string>();
  const add = (n: number, raw: unknown) => {
    if (!Number.isInteger(n) || n < 1 || n > MAX_VARIABLES) {
      throw new NodeOperationError(
        node,
        `Template variable number "${n}" is not valid: use whole numbers from 1 to ${MAX_VARIABLES}`,
        { itemIndex },
      );
    }
    if (variables.has(n)) {
      throw new NodeOperationError(node, `Template variable {{${n}}} is set twice`, { itemIndex });
    }
    const value = normalizeVariable(raw, MAX_VARIABLE_LENGTH);
    if (!value) {
      throw new NodeOperationError(
        node,
        `Template variable {{${n}}} is empty: WhatsApp rejects templates with empty variables`,
        {
          itemIndex,
          description:
            'Map a value that is always present, or give the expression a fallback, e.g. {{ $json.symbol || "n/a" }}',
        },
      );
    }
    variables.set(n, value);
  };
  for (const entry of entries) add(Number(entry.number), entry.value);
  if (summary) add(summary.number, summary.text);
  if (variables.size > MAX_VARIABLES) {
    throw new NodeOperationError(node, `A template takes at most ${MAX_VARIABLES} variables`, {
      itemIndex,
    });
  }
  const sorted = [...variables.entries()].sort((a, b) => a[0] - b[0]);
  const result: Record<string, string> = {};
  for (const [n, value] of sorted) result[String(n)] = value;
  return result;
}

function parseBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  const text = body.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return body;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // Not JSON after all (e.g. an HTML error page from a proxy): keep the text for the error message.
    return { message: text.slice(0, 200), parseError: (error as Error).message };
  }
}

/** `hide` applied to the texts an error shows: its message, description and collected messages. */
function hideInError(
  error: Error & { description?: string | null; messages?: unknown[] },
  hide: (text: string) => string,
): void {
  error.message = hide(error.message);
  if (typeof error.description === 'string') error.description = hide(error.description);
  if (Array.isArray(error.messages)) {
    error.messages = error.messages.map((m) => (typeof m === 'string' ? hide(m) : m));
  }
}

/** The error item for continueOnFail: the message plus Twilio's code when there is one. */
function errorJson(error: Error & { description?: string | null; context?: IDataObject }): IDataObject {
  const json: IDataObject = { error: error.message };
  if (error.description) json.errorDescription = error.description;
  const context = error.context ?? {};
  if (context.twilioErrorCode !== undefined) json.errorCode = context.twilioErrorCode;
  if (context.httpCode !== undefined) json.httpCode = context.httpCode;
  if (context.moreInfo !== undefined) json.moreInfo = context.moreInfo;
  return json;
}

export class WhatsAppAlert implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'WhatsApp Alert',
    name: 'whatsAppAlert',
    icon: { light: 'file:whatsAppAlert.svg', dark: 'file:whatsAppAlert.dark.svg' },
    group: ['output'],
    version: 1,
    subtitle: '={{$parameter["messageType"] === "template" ? "Send template" : "Send text"}}',
    description:
      'Send crypto alerts, analyses and scan results to WhatsApp through Twilio, as text or an approved template',
    defaults: {
      name: 'WhatsApp Alert',
    },
    usableAsTool: true,
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    credentials: [
      {
        name: CREDENTIAL,
        required: true,
      },
    ],
    properties: [
      {
        displayName: 'To',
        name: 'to',
        type: 'string',
        required: true,
        default: '',
        placeholder: '+14155550123',
        description:
          'The recipient\'s WhatsApp number in E.164 format (a + and the country code); the "whatsapp:" prefix is added for you',
      },
      {
        displayName: 'Message Type',
        name: 'messageType',
        type: 'options',
        noDataExpression: true,
        options: [
          {
            name: 'Content Template',
            value: 'template',
            description:
              'An approved WhatsApp template (Content SID) with variables. Works at any time, also outside the 24-hour window.',
          },
          {
            name: 'Free-Form Text',
            value: 'text',
            description:
              "Plain text. WhatsApp delivers it only within 24 hours of the recipient's last message to you.",
          },
        ],
        default: 'text',
      },
      {
        displayName: 'Text',
        name: 'textSource',
        type: 'options',
        noDataExpression: true,
        displayOptions: {
          show: {
            messageType: ['text'],
          },
        },
        options: [
          {
            name: 'Auto-Format Input Item',
            value: 'auto',
            description:
              'Write a short message from the item: analyses, scanner hits, trade ideas, portfolio reports and alert webhooks of the Crypto Intel server are recognised; other items get a compact summary. As an AI tool use Custom Text.',
          },
          {
            name: 'Custom Text',
            value: 'custom',
            description: "Write the message yourself; expressions can use the item's fields",
          },
        ],
        default: 'auto',
      },
      {
        displayName: 'Message',
        name: 'text',
        type: 'string',
        typeOptions: {
          rows: 4,
        },
        required: true,
        default: '',
        placeholder: 'e.g. {{ $json.symbol }} crossed {{ $json.price }}',
        description: 'The message text. WhatsApp formatting works: *bold*, _italic_, ~strikethrough~.',
        displayOptions: {
          show: {
            messageType: ['text'],
            textSource: ['custom'],
          },
        },
      },
      {
        displayName: 'Content SID',
        name: 'contentSid',
        type: 'string',
        required: true,
        default: '',
        placeholder: 'HXxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
        description:
          'The approved Content template to send (HX followed by 32 hex digits), from Twilio Console > Messaging > Content Template Builder',
        displayOptions: {
          show: {
            messageType: ['template'],
          },
        },
      },
      {
        displayName: 'Template Variables',
        name: 'templateVariables',
        type: 'fixedCollection',
        typeOptions: {
          multipleValues: true,
        },
        placeholder: 'Add Variable',
        default: {},
        description:
          "Values for the template's placeholders {{1}}, {{2}}, ... New lines, tabs and repeated spaces are replaced by single spaces; values are cut to 1,024 characters.",
        displayOptions: {
          show: {
            messageType: ['template'],
          },
        },
        options: [
          {
            displayName: 'Variable',
            name: 'variable',
            values: [
              {
                displayName: 'Number',
                name: 'number',
                type: 'number',
                typeOptions: {
                  minValue: 1,
                  maxValue: 100,
                  numberPrecision: 0,
                },
                default: 1,
                description: 'The placeholder number: 1 for {{1}}',
              },
              {
                displayName: 'Value',
                name: 'value',
                type: 'string',
                default: '',
                placeholder: 'e.g. {{ $json.symbol }}',
                description: 'The text for the placeholder; must not be empty',
              },
            ],
          },
        ],
      },
      {
        displayName: 'Item Summary Variable',
        name: 'summaryVariable',
        type: 'number',
        typeOptions: {
          minValue: 0,
          maxValue: 100,
          numberPrecision: 0,
        },
        default: 0,
        description:
          'Fill this placeholder number with a one-line summary of the input item (as Auto-Format writes it, at most 700 characters). 0 turns it off.',
        displayOptions: {
          show: {
            messageType: ['template'],
          },
        },
      },
      {
        displayName: 'Options',
        name: 'options',
        type: 'collection',
        placeholder: 'Add Option',
        default: {},
        options: [
          {
            displayName: 'If Text Is Too Long',
            name: 'onTooLong',
            type: 'options',
            options: [
              {
                name: 'Truncate',
                value: 'truncate',
                description:
                  'Cut the text at a line or word boundary and end it with an ellipsis (auto-formatted messages keep their data and disclaimer lines)',
              },
              {
                name: 'Fail',
                value: 'fail',
                description: 'Fail the item instead of sending a shortened text',
              },
            ],
            default: 'truncate',
            displayOptions: {
              show: {
                '/messageType': ['text'],
              },
            },
          },
          {
            displayName: 'Mask Recipient in Output',
            name: 'maskRecipient',
            type: 'boolean',
            default: false,
            description:
              'Whether to hide the recipient number in the output except its last 4 digits (e.g. when the output is stored or logged)',
          },
          {
            displayName: 'Max Length',
            name: 'maxLength',
            type: 'number',
            typeOptions: {
              minValue: 20,
              maxValue: 1600,
              numberPrecision: 0,
            },
            default: 1600,
            description: 'Longest text to send, in characters. WhatsApp through Twilio allows 1,600.',
            displayOptions: {
              show: {
                '/messageType': ['text'],
              },
            },
          },
          {
            displayName: 'Messaging Service SID',
            name: 'messagingServiceSid',
            type: 'string',
            default: '',
            placeholder: 'MGxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
            description:
              "Send through this Messaging Service instead of the sender of the credentials (overrides the credentials' Messaging Service SID)",
          },
          {
            displayName: 'Status Callback URL',
            name: 'statusCallback',
            type: 'string',
            default: '',
            placeholder: 'https://example.com/webhook/twilio-status',
            description:
              'Twilio posts delivery status changes (sent, delivered, read, failed) of the message to this URL, e.g. an n8n Webhook',
          },
        ],
      },
    ],
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    const items = this.getInputData();
    const returnData: INodeExecutionData[] = [];
    const node = this.getNode();
    // As an AI agent's tool the one input item is the model's arguments, not a crypto result to format.
    const asTool = typeof this.isToolExecution === 'function' && this.isToolExecution();
    const itemToFormat = (itemIndex: number): unknown => {
      if (asTool) {
        throw new NodeOperationError(
          node,
          'As an AI tool the node has no input item to format: let the model write the message',
          {
            itemIndex,
            description:
              'Set Text to Custom Text with Message {{ $fromAI("message") }}, or for a template fill the variables with $fromAI() and set Item Summary Variable to 0.',
          },
        );
      }
      return items[itemIndex].json;
    };
    const credentials = await this.getCredentials(CREDENTIAL);
    const accountSid = String(credentials.accountSid ?? '').trim();
    if (!ACCOUNT_SID.test(accountSid)) {
      throw new NodeOperationError(
        node,
        'The Account SID in the Twilio WhatsApp credentials is not valid: it is AC followed by 32 hex digits',
      );
    }
    const url = `${normalizeBaseUrl(credentials.baseUrl)}/2010-04-01/Accounts/${accountSid}/Messages.json`;

    for (let i = 0; i < items.length; i++) {
      // With Mask Recipient, Twilio's error texts (which quote the number) are masked too.
      let hideRecipient: ((text: string) => string) | undefined;
      try {
        const rawTo = this.getNodeParameter('to', i) as string;
        const to = toWhatsAppAddress(rawTo);
        if (!to) {
          throw new NodeOperationError(
            node,
            'The To number is not a valid E.164 phone number: write it with a + and the country code, e.g. +14155550123',
            { itemIndex: i },
          );
        }
        const messageType = this.getNodeParameter('messageType', i) as 'text' | 'template';
        const options = this.getNodeParameter('options', i, {}) as Options;
        if (options.maskRecipient) {
          const number = to.slice('whatsapp:'.length);
          const masked = maskAddress(number);
          hideRecipient = (text) =>
            text.split(number).join(masked).split(number.slice(1)).join(masked.slice(1));
        }
        const fields: Record<string, string> = {
          To: to,
          ...senderFields(node, credentials, options, i),
        };
        const output: IDataObject = { messageType };

        if (messageType === 'template') {
          const contentSid = String(this.getNodeParameter('contentSid', i)).trim();
          if (!CONTENT_SID.test(contentSid)) {
            throw new NodeOperationError(
              node,
              `The Content SID "${contentSid}" is not valid: it is HX followed by 32 hex digits`,
              { itemIndex: i },
            );
          }
          const entries = this.getNodeParameter('templateVariables.variable', i, []) as VariableEntry[];
          const summaryNumber = Number(this.getNodeParameter('summaryVariable', i, 0));
          const summary =
            summaryNumber > 0
              ? {
                  number: summaryNumber,
                  text: renderOneLine(formatItem(itemToFormat(i), Date.now()), SUMMARY_VARIABLE_LENGTH),
                }
              : undefined;
          const variables = templateVariables(node, entries, summary, i);
          fields.ContentSid = contentSid;
          if (Object.keys(variables).length) fields.ContentVariables = JSON.stringify(variables);
          output.contentSid = contentSid;
          output.contentVariables = variables;
        } else {
          const source = this.getNodeParameter('textSource', i) as 'auto' | 'custom';
          const max = Math.min(MAX_BODY_LENGTH, Math.max(20, Number(options.maxLength ?? MAX_BODY_LENGTH)));
          let body: { text: string; truncated: boolean };
          if (source === 'auto') {
            const message = formatItem(itemToFormat(i), Date.now());
            output.itemKind = message.kind;
            body = renderMessage(message, max);
          } else {
            const text = cleanText(String(this.getNodeParameter('text', i) ?? ''));
            if (!text) {
              throw new NodeOperationError(node, 'The message text is empty', { itemIndex: i });
            }
            body = truncateText(text, max);
          }
          if (body.truncated && options.onTooLong === 'fail') {
            throw new NodeOperationError(node, `The message is longer than ${max} characters`, {
              itemIndex: i,
              description:
                'Shorten it, raise Max Length (up to 1,600) or set "If Text Is Too Long" to Truncate',
            });
          }
          fields.Body = body.text;
          output.body = body.text;
          output.bodyLength = body.text.length;
          output.truncated = body.truncated;
        }

        const callback = (options.statusCallback ?? '').trim();
        if (callback) {
          if (!isHttpUrl(callback)) {
            throw new NodeOperationError(
              node,
              `The Status Callback URL "${callback}" is not an http(s) URL`,
              {
                itemIndex: i,
              },
            );
          }
          fields.StatusCallback = callback;
        }

        const response = (await this.helpers.httpRequestWithAuthentication.call(this, CREDENTIAL, {
          method: 'POST',
          url,
          headers: {
            Accept: 'application/json',
            'Content-Type': 'application/x-www-form-urlencoded',
          },
          body: encodeForm(fields),
          returnFullResponse: true,
          ignoreHttpStatusErrors: true,
        })) as IN8nHttpFullResponse;
        const answer = parseBody(response.body);
        if (response.statusCode < 200 || response.statusCode >= 300) {
          const failure = describeTwilioError(response.statusCode, answer);
          const error = new NodeApiError(node, (answer ?? {}) as JsonObject, {
            message: failure.message,
            description: failure.description,
            httpCode: String(response.statusCode),
            itemIndex: i,
          });
          error.context.twilioErrorCode = failure.code ?? null;
          error.context.httpCode = String(response.statusCode);
          if (failure.moreInfo) error.context.moreInfo = failure.moreInfo;
          throw error;
        }
        const message = (typeof answer === 'object' && answer !== null ? answer : {}) as IDataObject;
        const sentTo = typeof message.to === 'string' ? message.to : to;
        returnData.push({
          json: {
            sid: message.sid ?? null,
            status: message.status ?? null,
            to: options.maskRecipient ? maskAddress(sentTo) : sentTo,
            from: message.from ?? fields.From ?? null,
            messagingServiceSid: message.messaging_service_sid ?? fields.MessagingServiceSid ?? null,
            ...output,
            numSegments: message.num_segments !== undefined ? Number(message.num_segments) : null,
            statusCallback: fields.StatusCallback ?? null,
            dateCreated: message.date_created ?? null,
          },
          pairedItem: { item: i },
        });
      } catch (error) {
        if (hideRecipient) hideInError(error as Error, hideRecipient);
        if (this.continueOnFail()) {
          returnData.push({ json: errorJson(error as Error), pairedItem: { item: i } });
          continue;
        }
        // Both constructors hand back an error of their own class unchanged, without the item index
        // (n8n's request helper throws NodeApiErrors of its own, e.g. when Twilio cannot be reached).
        const failure =
          error instanceof NodeOperationError
            ? new NodeOperationError(node, error, { itemIndex: i })
            : new NodeApiError(node, error as JsonObject, { itemIndex: i });
        failure.context.itemIndex ??= i;
        throw failure;
      }
    }
    return [returnData];
  }
}
