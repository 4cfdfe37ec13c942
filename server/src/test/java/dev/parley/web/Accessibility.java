package dev.parley.web;

import com.microsoft.playwright.Page;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A few WCAG 2.1 AA checks computed in the page itself: names of form fields and buttons (4.1.2,
 * 3.3.2), a visible focus indicator (2.4.7), and the contrast of every visible piece of text (1.4.3).
 * Not an audit: a tripwire for the mistakes that are easy to make in this client's HTML and CSS.
 */
final class Accessibility {
    private Accessibility() {}

    // Contrast as WCAG defines it, from computed colours; translucent backgrounds are blended over
    // what is below them, and opacity on the way up fades the text towards its background.
    private static final String COLOUR_MATH = """
            const parse = (c) => {
              const m = /^rgba?\\(([\\d.]+),\\s*([\\d.]+),\\s*([\\d.]+)(?:,\\s*([\\d.]+))?\\)$/.exec(c);
              if (!m) throw new Error('cannot read colour ' + c);
              return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
            };
            const over = (top, below) => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
            const lum = (c) => {
              const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
              return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
            const background = (el) => {
              const layers = [];
              for (let e = el; e; e = e.parentElement) {
                const c = parse(getComputedStyle(e).backgroundColor);
                if (c[3] > 0) layers.push(c);
                if (c[3] === 1) break;
              }
              return layers.reverse().reduce((below, top) => over(top, below), [255, 255, 255, 1]);
            };
            const opacity = (el) => { let o = 1; for (let e = el; e; e = e.parentElement) o *= +getComputedStyle(e).opacity; return o; };
            """;

    private static final String UNLABELLED = """
            () => {
              const text = (ids) => (ids ?? '').split(/\\s+/).filter(Boolean).map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
              const fields = [...document.querySelectorAll('input:not([type=hidden]), textarea, select')];
              const buttons = [...document.querySelectorAll('button')];
              const unnamed = [];
              for (const el of fields) {
                const name = [...el.labels].map((l) => l.textContent).join(' ') + (el.getAttribute('aria-label') ?? '') + text(el.getAttribute('aria-labelledby'));
                if (!name.trim()) unnamed.push(el.outerHTML.slice(0, 80));
              }
              for (const el of buttons) {
                const name = el.textContent + (el.getAttribute('aria-label') ?? '') + text(el.getAttribute('aria-labelledby'));
                if (!name.trim()) unnamed.push(el.outerHTML.slice(0, 80));
              }
              return { fields: fields.length, buttons: buttons.length, unnamed };
            }
            """;

    private static final String FOCUS = "() => {" + COLOUR_MATH + """
              const el = document.activeElement;
              const s = getComputedStyle(el);
              const outline = s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth);
              const colour = s.outlineStyle === 'none' ? null : parse(s.outlineColor);
              return {
                element: el.id || el.tagName,
                focusVisible: el.matches(':focus-visible'),
                outline,
                contrast: colour ? ratio(over(colour, background(el.parentElement ?? el)), background(el.parentElement ?? el)) : 0,
              };
            }
            """;

    private static final String CONTRAST = "() => {" + COLOUR_MATH + """
              const failures = [];
              let checked = 0;
              for (const el of document.body.querySelectorAll('*')) {
                const own = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim();
                if (!own || !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
                if (el.closest(':disabled')) continue; // WCAG exempts inactive controls
                const s = getComputedStyle(el);
                const bg = background(el);
                const fg = parse(s.color);
                const text = over([fg[0], fg[1], fg[2], fg[3] * opacity(el)], bg);
                const size = parseFloat(s.fontSize);
                const large = size >= 24 || (size >= 18.66 && +s.fontWeight >= 700);
                const need = large ? 3 : 4.5;
                const r = ratio(text, bg);
                checked++;
                if (r < need) failures.push(`${el.tagName.toLowerCase()}.${el.className} "${own.slice(0, 30)}": ${r.toFixed(2)} < ${need} (${s.color} on rgb(${bg.slice(0, 3).map(Math.round)}))`);
              }
              return { checked, failures };
            }
            """;

    /** Every input, textarea and button has an accessible name. */
    static void assertLabelled(Page page) {
        @SuppressWarnings("unchecked")
        Map<String, Object> r = (Map<String, Object>) page.evaluate(UNLABELLED);
        assertThat(((Number) r.get("fields")).intValue()).as("form fields found").isGreaterThanOrEqualTo(2);
        assertThat((List<?>) r.get("unnamed")).as("fields and buttons without a label or aria-label").isEmpty();
    }

    /** The focused element is :focus-visible and drawn with an outline of at least 2px and 3:1 contrast. */
    static void assertFocusVisible(Page page) {
        @SuppressWarnings("unchecked")
        Map<String, Object> r = (Map<String, Object>) page.evaluate(FOCUS);
        assertThat(r.get("focusVisible")).as("%s matches :focus-visible", r.get("element")).isEqualTo(true);
        assertThat(((Number) r.get("outline")).doubleValue()).as("outline width of focused %s", r.get("element")).isGreaterThanOrEqualTo(2);
        assertThat(((Number) r.get("contrast")).doubleValue()).as("outline contrast of focused %s", r.get("element")).isGreaterThanOrEqualTo(3);
    }

    /** Every visible piece of text has 4.5:1 contrast with what is behind it (3:1 when large). */
    static void assertContrast(Page page) {
        // Text in the middle of a fade (the typing line) is neither what a reader sees nor at rest:
        // measure once every finite animation has finished (an endless one, a pulse, never will).
        page.waitForFunction("() => document.getAnimations().every(a => a.playState !== 'running'"
                + " || a.effect.getComputedTiming().iterations === Infinity)");
        @SuppressWarnings("unchecked")
        Map<String, Object> r = (Map<String, Object>) page.evaluate(CONTRAST);
        assertThat(((Number) r.get("checked")).intValue()).as("text elements checked").isGreaterThanOrEqualTo(5);
        assertThat((List<?>) r.get("failures")).as("text below WCAG AA contrast").isEmpty();
    }
}
