"""Console users: roles, agencies, argon2 passwords, sign-in sessions, CSRF and sign-in throttling.

A user belongs to one agency and has one role (administrator, analyst, data_officer, viewer); the role
decides which security classifications of indicators the user may read. Sign-in sessions are stored
server-side: the browser's cookie holds a random token, the store only its SHA-256.
"""
