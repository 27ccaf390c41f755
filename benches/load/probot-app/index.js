// A minimal Probot app for the load comparison: it handles every event and does nothing else.
export default (app) => {
  app.onAny(async () => {});
};
