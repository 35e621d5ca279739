import type { Channel, ChannelConfig } from '../channels/channel.js';
import { previewChannel } from '../channels/registry.js';
import type { ChannelProvider } from '../dispatch/dispatcher.js';

/**
 * Local mode's channels: every notification is rendered as its channel would show it (the
 * registry's preview) and written to the console instead of being sent. Nothing leaves the
 * machine and no secret is resolved, so registrations work without any environment set up.
 */
export function consoleChannels(write: (text: string) => void): ChannelProvider {
  let count = 0;
  return (config: ChannelConfig, registrationName: string): Channel => ({
    async send(notification) {
      count += 1;
      const header = `── notification ${count} · ${registrationName}/${config.name} (${config.type}, local mode: printed, not sent) ──`;
      write(`\n${header}\n${previewChannel(config, notification).trimEnd()}\n`);
      return { outcome: 'sent', messageId: `console-${count}` };
    },
  });
}
