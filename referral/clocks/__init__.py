"""The clocks the law and good practice set (issue 14): the child-protection notice, the
reflection period of a foreign victim, and the referral's answer due. Computed in queries
(the web never depends on the clocks command); ``flask --app referral clocks run`` mails
what is due, once."""
