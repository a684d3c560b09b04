"""What people said, kept and answered (issue 22): themes coded from free text, quotes made safe, and the insight
library (insights, "you said, we did" actions, stories).

Everything here runs when the store is built (`analytics.insight.store.write`), so pages only read its tables:
`redact` (personal details out of quotes), `themes` (codebook and discovery), `groups` (prevalence with disclosure
control and distinctive themes), `library` (what pages ask).
"""
