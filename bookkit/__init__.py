"""The maintainers' toolkit of *Hands-On CNNs*: what only the people who build
the book run (multi-run studies, results-file plumbing). It is not part of
the `helpers` package that learners install, and no notebook imports it.
"""
