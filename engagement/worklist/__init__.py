"""The CSM worklist: a portfolio ordered by what needs attention, with the reasons, and its inline
actions' answer.
"""
