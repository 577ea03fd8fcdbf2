import type { INodeProperties } from 'n8n-workflow';
import { timeframeOptions } from '../../shared/fields';

const forOperations = (operation: string[], extra: Record<string, string[]> = {}) => ({
  show: { resource: ['alert'], operation, ...extra },
});

export const alertOperations: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['alert'] } },
    options: [
      {
        name: 'Create',
        value: 'create',
        description:
          'Create an alert that sends a WhatsApp message or a signed webhook when a price, indicator, smart-money or volume condition holds',
        action: 'Create a crypto price or indicator alert',
      },
      {
        name: 'Delete',
        value: 'delete',
        description: 'Delete an alert (its history is kept)',
        action: 'Delete an alert',
      },
      {
        name: 'Get History',
        value: 'getHistory',
        description: 'Get the firings of an alert and how each message was delivered',
        action: 'Get the history of an alert',
      },
      {
        name: 'Get Many',
        value: 'getAll',
        description: 'Get many alerts',
        action: 'Get many alerts',
      },
      {
        name: 'Pause',
        value: 'pause',
        description: 'Stop evaluating an alert until it is resumed',
        action: 'Pause an alert',
      },
      {
        name: 'Resume',
        value: 'resume',
        description: 'Evaluate a paused, fired or expired alert again',
        action: 'Resume an alert',
      },
      {
        name: 'Update',
        value: 'update',
        description: 'Change the condition, recipient, message or schedule of an alert',
        action: 'Update an alert',
      },
    ],
    default: 'create',
  },
];

const conditionDescription =
  'When to alert, in the expression language, e.g. "close(4h) > 70000", "rsi(14, 1h) < 30 or price > 80000", "cross_above(ema(20), ema(50))", "choch_bullish(4h)", "abs(move(24, 1h)) > 5%" or "volume_ratio(20, 1h) > 3"; or a structured condition as a JSON object. Candle conditions are checked when a candle closes, price conditions on every tick.';

type AlertSetting = INodeProperties & { only?: 'create' | 'update' };

/** Fields an alert has: Create's options and Update's update fields (some only in one), by name. */
const ALERT_SETTINGS: AlertSetting[] = [
  {
    displayName: 'Alert Type',
    name: 'alertType',
    type: 'options',
    options: [
      { name: 'Price', value: 'price' },
      { name: 'Risk', value: 'risk' },
      { name: 'Technical', value: 'technical' },
      { name: 'Volume', value: 'volume' },
    ],
    default: 'price',
    description: 'Category of the alert, for your own overview',
    only: 'create',
  },
  {
    displayName: 'Condition',
    name: 'condition',
    type: 'string',
    typeOptions: { rows: 2 },
    default: '',
    placeholder: 'e.g. rsi(14, 1h) < 30',
    description: conditionDescription,
    only: 'update',
  },
  {
    displayName: 'Cooldown Minutes',
    name: 'cooldownMinutes',
    type: 'number',
    typeOptions: { minValue: 1, maxValue: 10080 },
    default: 60,
    description: 'With Repeat: minutes before the alert may fire again (1-10080)',
  },
  {
    displayName: 'Exchange',
    name: 'exchange',
    type: 'string',
    default: '',
    placeholder: 'e.g. binance',
    description: "Lowercase ccxt exchange ID; empty uses the server's default",
  },
  {
    displayName: 'Expires At',
    name: 'expiresAt',
    type: 'string',
    default: '',
    placeholder: 'e.g. 2026-12-31T23:59:00Z',
    description: 'ISO time with time zone after which the alert stops; default 30 days after creation',
  },
  {
    displayName: 'Message Template',
    name: 'messageTemplate',
    type: 'string',
    typeOptions: { rows: 2 },
    default: '',
    placeholder: 'e.g. {symbol} RSI is {rsi(14,1h)} at {price}',
    description:
      'Message text (at most 1000 characters) with {symbol}, {price}, {condition}, {time} or series values like {rsi(14,1h)}',
  },
  {
    displayName: 'Phone Number',
    name: 'phoneNumber',
    type: 'string',
    default: '',
    placeholder: 'e.g. +4915112345678',
    description: 'Deliver to this WhatsApp number (E.164) from now on',
    only: 'update',
  },
  {
    displayName: 'Quiet Hours',
    name: 'quietHours',
    type: 'fixedCollection',
    default: {},
    placeholder: 'Add Quiet Hours',
    description: "No messages between start and end in the recipient's time zone",
    options: [
      {
        displayName: 'Quiet Hours',
        name: 'hours',
        values: [
          {
            displayName: 'End',
            name: 'end',
            type: 'string',
            default: '07:00',
            placeholder: 'e.g. 07:00',
            description: 'Local time HH:MM when messages may be sent again',
          },
          {
            displayName: 'Start',
            name: 'start',
            type: 'string',
            default: '22:00',
            placeholder: 'e.g. 22:00',
            description: 'Local time HH:MM from which no messages are sent',
          },
          {
            displayName: 'Time Zone',
            name: 'timeZone',
            type: 'string',
            default: 'UTC',
            placeholder: 'e.g. Europe/Berlin',
            description: 'IANA time zone of the recipient',
          },
        ],
      },
    ],
  },
  {
    displayName: 'Repeat',
    name: 'repeat',
    type: 'options',
    options: [
      { name: 'Once', value: 'once', description: 'Fire the first time the condition holds' },
      { name: 'Repeat', value: 'repeat', description: 'Fire again after the cooldown' },
    ],
    default: 'once',
    description: 'Whether the alert fires once or repeatedly',
  },
  {
    displayName: 'Symbol',
    name: 'symbol',
    type: 'string',
    default: '',
    placeholder: 'e.g. BTCUSDT',
    description: 'Market the condition reads',
    only: 'update',
  },
  {
    displayName: 'Timeframe',
    name: 'timeframe',
    type: 'options',
    options: timeframeOptions,
    default: '1h',
    description: 'Timeframe of series in the condition written without one',
  },
  {
    displayName: 'Webhook URL',
    name: 'webhookUrl',
    type: 'string',
    default: '',
    placeholder: 'e.g. https://n8n.example.com/webhook/crypto-alert',
    description: 'Deliver to this URL (a signed JSON POST per firing) from now on',
    only: 'update',
  },
];

const alertSettings = (operation: 'create' | 'update'): INodeProperties[] =>
  ALERT_SETTINGS.filter((setting) => setting.only === undefined || setting.only === operation).map(
    ({ only: _only, ...setting }) => setting,
  );

export const alertFields: INodeProperties[] = [
  {
    displayName: 'Alert ID',
    name: 'alertId',
    type: 'string',
    required: true,
    default: '',
    placeholder: 'e.g. 3f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f',
    description: 'ID of the alert, as Create or Get Many gave it',
    displayOptions: forOperations(['delete', 'getHistory', 'pause', 'resume', 'update']),
  },

  // create
  {
    displayName: 'Symbol',
    name: 'symbol',
    type: 'string',
    default: '',
    placeholder: 'e.g. BTCUSDT',
    description: 'Market the condition reads; required for market conditions, not for portfolio conditions',
    displayOptions: forOperations(['create']),
  },
  {
    displayName: 'Condition',
    name: 'condition',
    type: 'string',
    typeOptions: { rows: 2 },
    required: true,
    default: '',
    placeholder: 'e.g. rsi(14, 1h) < 30',
    description: conditionDescription,
    displayOptions: forOperations(['create']),
  },
  {
    displayName: 'Deliver To',
    name: 'channel',
    type: 'options',
    options: [
      {
        name: 'WhatsApp',
        value: 'whatsapp',
        description: "A WhatsApp message through the server's Twilio sender",
      },
      { name: 'Webhook', value: 'webhook', description: 'A signed JSON POST, e.g. to an n8n Webhook node' },
    ],
    default: 'whatsapp',
    description: 'Where the alert is delivered when it fires',
    displayOptions: forOperations(['create']),
  },
  {
    displayName: 'Phone Number',
    name: 'phoneNumber',
    type: 'string',
    required: true,
    default: '',
    placeholder: 'e.g. +4915112345678',
    description: 'WhatsApp recipient in E.164: + and country code (spaces, dashes and brackets are removed)',
    displayOptions: forOperations(['create'], { channel: ['whatsapp'] }),
  },
  {
    displayName: 'Webhook URL',
    name: 'webhookUrl',
    type: 'string',
    required: true,
    default: '',
    placeholder: 'e.g. https://n8n.example.com/webhook/crypto-alert',
    description: 'Receives a JSON POST per firing, signed with X-Signature: sha256=HMAC of the body',
    displayOptions: forOperations(['create'], { channel: ['webhook'] }),
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: forOperations(['create']),
    options: alertSettings('create'),
  },

  // update
  {
    displayName: 'Update Fields',
    name: 'updateFields',
    type: 'collection',
    placeholder: 'Add Field',
    default: {},
    displayOptions: forOperations(['update']),
    options: alertSettings('update'),
  },

  // getHistory
  {
    displayName: 'Limit',
    name: 'limit',
    type: 'number',
    typeOptions: { minValue: 1, maxValue: 500 },
    default: 50,
    description: 'Max number of results to return',
    displayOptions: forOperations(['getHistory']),
  },
];
