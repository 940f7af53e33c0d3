"""Customer lifetime value: historic revenue and the BG/NBD + Gamma-Gamma prediction.

- summary.py: one SQL GROUP BY over completed orders gives each customer's (x, t_x, T, spend);
  identical summaries are grouped with counts, so a fit over a million customers reads a few
  hundred thousand rows at most;
- models.py: the two likelihoods, their weighted maximum-likelihood fits and the closed-form
  predictions (Fader, Hardie and Lee 2005; Fader and Hardie 2013);
- services.py: `clv_refresh` fits, scores every group and writes every customer set-based;
- selectors.py: the latest fit and CLV averages by segment for the page and the API.
"""
