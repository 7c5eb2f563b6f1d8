import Mustache from 'mustache';
import type { Channel, Content } from '../../workflows/definitions';
import type { RenderedMessage } from '../channels/types';
import type { Database } from '../db';
import { findPreferences } from '../db/recipients';
import { resolveTemplate } from '../db/templates';

/** `ko-KR` → `ko` → the default locale, without repeats. */
export function localeChain(locale: string | undefined | null, defaultLocale: string): string[] {
  const chain = locale ? [locale, locale.split('-')[0]] : [];
  return [...new Set([...chain, defaultLocale])];
}

// Push texts are not HTML: `{{name}}` must print "Tom & Jerry", not "Tom &amp; Jerry".
const plain = { escape: (value: unknown) => String(value) };

export class TemplateNotFoundError extends Error {
  constructor(
    readonly key: string,
    readonly channel: Channel,
    readonly locales: string[],
  ) {
    super(`no template "${key}" for channel ${channel} in locales ${locales.join(', ')} (nor channel default)`);
  }
}

export interface Renderer {
  /** What `content` looks like on `channel` for `userId`; throws TemplateNotFoundError. */
  render(content: Content, channel: Channel, userId: string): Promise<RenderedMessage>;
}

export function createRenderer(db: Database, defaultLocale: string): Renderer {
  return {
    async render(content, channel, userId) {
      if (!('template' in content)) return content;
      const { key, locale, data = {} } = content.template;
      const locales = localeChain(locale ?? (await findPreferences(db, userId))?.locale, defaultLocale);
      const template = await resolveTemplate(db, key, locales, channel);
      if (!template) throw new TemplateNotFoundError(key, channel, locales);
      return {
        ...(template.title ? { title: Mustache.render(template.title, data, {}, plain) } : {}),
        body: Mustache.render(template.body, data, {}, plain),
        // The one HTML part: mustache's own escaping applies, so `{{name}}` cannot inject markup.
        ...(channel === 'email' && template.html ? { html: Mustache.render(template.html, data) } : {}),
        ...(channel === 'kakao' && template.providerTemplateId ? { providerTemplateId: template.providerTemplateId } : {}),
      };
    },
  };
}
