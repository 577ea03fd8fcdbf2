/** Plain-text summary of an alert_manager answer for clients that ignore structured content. */
import type { AlertManagerResult } from './alert-service.js';

type Alert = NonNullable<AlertManagerResult['alert']>;

const line = (a: Alert) =>
  `${a.id} ${a.status}: ${a.symbol ?? 'portfolio'} "${a.expression}" -> ${a.channel.type} ${a.channel.to}` +
  ` (${a.repeat === 'once' ? 'once' : `every ${a.cooldown_minutes} min at most`}` +
  `${a.expires_at ? `, expires ${a.expires_at}` : ''})`;

export function formatAlertSummary(r: AlertManagerResult): string {
  const lines: string[] = [];
  if (r.action === 'list') {
    lines.push(r.alerts!.length === 0 ? 'No alerts.' : `${r.alerts!.length} alert(s):`);
    lines.push(...r.alerts!.map((a) => `- ${line(a)}`));
  } else if (r.alert) {
    lines.push(`${r.action}: ${line(r.alert)}`);
  } else {
    lines.push(`${r.action}: done.`);
  }
  if (r.history) {
    lines.push(r.history.length === 0 ? 'It has not fired yet.' : 'Fired:');
    for (const h of r.history) {
      lines.push(
        `- ${h.fired_at}: ${h.delivery ?? 'not queued'}${h.provider_status ? ` (${h.provider_status})` : ''}` +
          `${h.error ? `, ${h.error}` : ''}; ${Object.entries(h.values)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
      );
    }
  }
  lines.push(`Delivery: WhatsApp ${r.delivery.whatsapp}, webhook ${r.delivery.webhook}.`);
  lines.push(...r.notes.map((n) => `Note: ${n}`));
  return lines.join('\n');
}
