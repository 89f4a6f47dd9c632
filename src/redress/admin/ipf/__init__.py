"""The securities investor protection fund, administered: its books, levies on securities companies, payouts
to the clients and creditors of failed firms, investments, board decisions and reports.  The rules are the
pure core in ``redress.protection``; this package keeps them in the database, one unit of work a call."""
