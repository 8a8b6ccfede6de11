"""users_svc: accounts, roles, login and logout, token issue and revocation, user admin."""
