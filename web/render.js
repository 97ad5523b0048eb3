// Model output → safe DOM. The text is untrusted: math is turned into MathML by temml, markdown into HTML by
// marked, and everything then goes through DOMPurify (HTML + MathML profiles) before it reaches the page, so
// no script, event handler or javascript: URL the model writes survives. The page's CSP (no inline script)
// is the second wall.
/* global marked, DOMPurify, temml */

// Code (fenced or inline) is left alone; math is looked for only between code spans.
const CODE = /(```[\s\S]*?(?:```|$)|~~~[\s\S]*?(?:~~~|$)|`[^`\n]+`)/g;
// Display math first, then inline; `$...$` only when it hugs its content, so "$5 and $6" stays text.
const MATH = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|\$(?=\S)([^$\n]+?)(?<=\S)\$(?!\d)/g;

function renderMath(tex, display) {
  try {
    return temml.renderToString(tex, { displayMode: display, throwOnError: false });
  } catch {
    return null;
  }
}

let hooked = false;
function purifier() {
  if (!hooked) {
    // Links the model writes open elsewhere and cannot reach back into this page.
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      // The CSP allows no inline style (model output could restyle the page); temml's one style that carries
      // meaning, \boxed's border, becomes a class.
      if (node.hasAttribute('style')) {
        if (/border:\s*1px solid/.test(node.getAttribute('style'))) node.classList.add('tml-boxed');
        node.removeAttribute('style');
      }
      if (node.tagName === 'A' && node.hasAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer nofollow');
      }
    });
    hooked = true;
  }
  return DOMPurify;
}

// Markdown with math → sanitized HTML (a string).
export function markdownToHtml(text) {
  const math = [];
  const withSlots = text
    .split(CODE)
    .map((part, i) => {
      if (i % 2 === 1) return part;  // a code span or block
      return part.replace(MATH, (whole, d1, d2, i1, i2) => {
        const display = d1 !== undefined || d2 !== undefined;
        const html = renderMath(d1 ?? d2 ?? i1 ?? i2, display);
        if (html === null) return whole;
        math.push(html);
        return `\uE000M${math.length - 1}\uE001`;
      });
    })
    .join('');
  let html = marked.parse(withSlots, { gfm: true, breaks: false, async: false });
  html = html.replace(/\uE000M(\d+)\uE001/g, (_, n) => math[Number(n)] ?? '');
  return purifier().sanitize(html, {
    USE_PROFILES: { html: true, mathMl: true },
    // Nothing the model writes becomes a control of this page.
    FORBID_TAGS: ['form', 'input', 'button', 'textarea', 'select', 'option', 'style', 'dialog'],
  });
}

// Renders `text` into `el`, with a copy button on each code block.
export function renderMarkdown(el, text) {
  el.innerHTML = markdownToHtml(text);
  for (const pre of el.querySelectorAll('pre')) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'copy-code';
    b.textContent = 'Copy';
    b.setAttribute('aria-label', 'Copy code');
    b.addEventListener('click', () => copyText(pre.querySelector('code')?.textContent ?? pre.textContent, b));
    pre.append(b);
  }
}

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    if (button) {
      const was = button.textContent;
      button.textContent = 'Copied';
      setTimeout(() => (button.textContent = was), 1200);
    }
  } catch {
    if (button) button.textContent = 'Copy failed';
  }
}
