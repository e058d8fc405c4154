// The workspace's code editor: CodeMirror 6 with what a notebook cell needs, nothing more.
// Bundled by build.mjs into lms/static/editor/editor.js; the page's own logic
// (lms/static/workspace.js) talks to it only through window.OquEditor below.
import { EditorState, Compartment } from "@codemirror/state";
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  drawSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching,
  defaultHighlightStyle,
  indentOnInput,
  syntaxHighlighting,
} from "@codemirror/language";
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { python } from "@codemirror/lang-python";

// One editor per code cell. options: doc, readOnly, nonce (the page's CSP nonce: CodeMirror
// writes <style> elements), label (accessible name), onChange(text), onRun().
function create(parent, options) {
  const editable = new Compartment();
  const extensions = [
    EditorView.cspNonce.of(options.nonce || ""),
    lineNumbers(),
    highlightActiveLineGutter(),
    history(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    closeBrackets(),
    highlightActiveLine(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    python(),
    EditorState.tabSize.of(4),
    // Shift+Enter runs the cell (the page also shows a Run button: phones have no Shift).
    keymap.of([
      { key: "Shift-Enter", run: () => { if (options.onRun) { options.onRun(); } return true; } },
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...historyKeymap,
      indentWithTab, // Esc then Tab still leaves the editor (CodeMirror's tab-focus rule)
    ]),
    // tabindex: every editor (read-only ones too) is a stop for the keyboard, and tools see
    // the scrolling area as reachable.
    EditorView.contentAttributes.of({ "aria-label": options.label || "", tabindex: "0" }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged && options.onChange) {
        options.onChange(update.state.doc.toString());
      }
    }),
    editable.of(readOnlyExtensions(options.readOnly)),
  ];
  const view = new EditorView({
    state: EditorState.create({ doc: options.doc || "", extensions }),
    parent,
  });
  return {
    view,
    getText: () => view.state.doc.toString(),
    setText: (text) => {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    setReadOnly: (on) => view.dispatch({ effects: editable.reconfigure(readOnlyExtensions(on)) }),
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}

function readOnlyExtensions(on) {
  return [EditorState.readOnly.of(!!on), EditorView.editable.of(!on)];
}

window.OquEditor = { create };
