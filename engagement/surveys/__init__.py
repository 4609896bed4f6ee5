"""NPS and CSAT surveys: journey survey steps, one-off surveys after a touchpoint, the public answer
page, responses on the timeline, in health and in the leadership panel."""
