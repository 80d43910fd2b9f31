"""The Album admin is the dashboard's (dashboard/admin_albums.py): its cover thumbnails and
"delete with uploads" need the uploads app, which this app may not import."""
