import { createMetrics, MAX_TYPE_LABELS } from '../../src/metrics';
import { parseExposition } from '../setup/prometheus';

describe('metric labels', () => {
  test('notification types past the cap are counted as "other", so callers cannot grow the series without bound', async () => {
    const metrics = createMetrics();
    for (let i = 0; i < MAX_TYPE_LABELS + 50; i++) metrics.notificationCreated(`type-${i}`, ['webhook']);
    metrics.notificationCreated('type-0', ['webhook']);
    const samples = parseExposition(await metrics.registry.metrics()).filter((s) => s.name === 'herald_notifications_created_total');
    expect(samples).toHaveLength(MAX_TYPE_LABELS + 1);
    expect(samples.find((s) => s.labels.type === 'other')?.value).toBe(50);
    // A type seen before the cap keeps its own series.
    expect(samples.find((s) => s.labels.type === 'type-0')?.value).toBe(2);
  });

  test('channels are one label, in a fixed order', async () => {
    const metrics = createMetrics();
    metrics.notificationCreated('t', ['webhook', 'fcm']);
    metrics.notificationCreated('t', ['fcm', 'webhook']);
    const samples = parseExposition(await metrics.registry.metrics()).filter((s) => s.name === 'herald_notifications_created_total');
    expect(samples).toEqual([{ name: 'herald_notifications_created_total', labels: { type: 't', channels: 'fcm+webhook' }, value: 2 }]);
  });
});
