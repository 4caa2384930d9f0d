// Chart.js (from npm, served from node_modules), set up once for the demo's charts.
import { Chart, registerables } from 'chart.js';

Chart.register(...registerables);

const css = getComputedStyle(document.documentElement);
Chart.defaults.color = css.getPropertyValue('--muted').trim() || '#666';
Chart.defaults.borderColor = css.getPropertyValue('--grid').trim() || 'rgba(128, 128, 128, 0.2)';
Chart.defaults.font.family = 'system-ui, sans-serif';
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.plugins.legend.labels.boxWidth = 12;

/** Series colours, distinguishable in light and dark mode. */
export const COLORS = ['#2f6fdb', '#e8871e', '#2e9d5b', '#d64545', '#8a5cd6', '#1a9fb0', '#8c8c8c'];

export { Chart };
