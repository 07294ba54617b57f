// Runs axe-core in a page (it scans open shadow roots too) and returns the violations.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');

export async function axeViolations(page) {
  await page.addScriptTag({ path: AXE_PATH });
  return page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ['violations'] });
    return results.violations;
  });
}

/** Every violation in full (rule, impact, help, and each node's target and summary). */
export function formatViolations(where, violations) {
  if (violations.length === 0) return `${where}: no axe violations`;
  const lines = [`${where}: ${violations.length} axe violation(s)`];
  for (const v of violations) {
    lines.push(`- [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes) {
      lines.push(`    target: ${JSON.stringify(n.target)}`);
      lines.push(`    html:   ${n.html}`);
      if (n.failureSummary) lines.push(`    ${n.failureSummary.replace(/\n/g, '\n    ')}`);
    }
  }
  return lines.join('\n');
}

export function seriousOrCritical(violations) {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
