"""The Register Energie voor Vervoer: holders, users, deliveries, bookings and transfers with the
four-eyes principle, holds and ex-officio corrections by the regulator — on the unit ledger."""
