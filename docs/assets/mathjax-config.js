// MathJax 3 typesets only what pymdownx.arithmatex marked as math ($...$, $$...$$ in the notebooks' Markdown),
// from the copy in assets/mathjax/ (never from a CDN).
window.MathJax = {
  tex: { inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true, processEnvironments: true },
  options: { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" },
  startup: { typeset: true },
};
