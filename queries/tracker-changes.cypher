// Changes to the CTS tracker and its key-event notifications: someone tampering with auditing.
//
// Parameters
//   $from  start of the range, inclusive (ISO 8601 text or a DateTime)
//   $to    end of the range, exclusive
//
// Neo4j Browser:  :params {from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z'}
//
// CTS records its own operations under service CTS: createTracker, updateTracker (which also
// covers disabling it), deleteTracker, and the notification operations. A disabled or deleted
// tracker means no more traces, so review every row. `request` shows what was changed.
MATCH (a:Action)
WHERE a.service = 'CTS'
  AND a.name IN ['createTracker', 'updateTracker', 'deleteTracker', 'createNotification',
                 'updateNotification', 'updateNotificationStatus', 'deleteNotification']
  AND datetime($from) <= a.time < datetime($to)
OPTIONAL MATCH (a)-[:PERFORMED_BY]->(u:User)
OPTIONAL MATCH (a)-[:FROM_IP]->(ip:IpAddress)
OPTIONAL MATCH (a)-[:APPLIED_ON]->(r:Resource)
RETURN a.time AS time,
       a.name AS action,
       r.name AS target,
       u.name AS user,
       ip.address AS sourceIp,
       a.rating AS rating,
       a.code AS code,
       a.request AS request
ORDER BY time DESC, action
