"""Teams: the activity handlers, the support channel (tickets as cards in the experts' channel) and
reminders sent into the admin's personal chat."""
